"""Translation for messages written by the Qt-free core (engine errors, fit verdicts, download
failures): the core marks them with ``translate("Core", "...")``, which pyside6-lupdate extracts
like Qt's own call, and the UI plugs Qt's translator in at start-up (desktop/ui/i18n.py). Without
it, as in the command line or a child process, the English text is used as it is.

Placeholders are named ({name}) and filled with .format() after translating, so a translation
may put them in another order.
"""

from __future__ import annotations

from collections.abc import Callable

_translator: Callable[[str, str], str] | None = None


def translate(context: str, text: str) -> str:
    translator = _translator
    return translator(context, text) if translator is not None else text


def set_translator(translator: Callable[[str, str], str] | None) -> None:
    """Called by the UI; QCoreApplication.translate is safe to call from any thread."""
    global _translator
    _translator = translator


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate looks for
    """Marks a string kept in a table for translation where it is shown (translate())."""
    return text
