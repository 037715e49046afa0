"""The interface language: which one to use, and the Qt translators that show it.

The app's strings are English in the code; resources/i18n/edgechat_<lang>.qm (built from the .ts
by scripts/update-translations) holds each other language, and Qt's own qtbase_<lang>.qm
translates the standard dialog buttons. Install the translators before the windows are built:
the widgets read their texts once, when they are made.
"""

from __future__ import annotations

import logging
from importlib.resources import as_file, files

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop.text import set_translator

log = logging.getLogger(__name__)

_LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
# The translators in use: Qt keeps only a pointer to each, so they must stay referenced here.
_installed: list[QTranslator] = []


def available_languages() -> dict[str, str]:
    """Language code -> its name in that language, for a language picker."""
    return dict(_LANGUAGES)


def _language_of(locale: QLocale) -> str:
    """The interface language for a locale: Chinese in the Simplified script gets zh_CN (zh_CN,
    zh_SG, zh_Hans...); everything else, Traditional Chinese included, gets English."""
    if (locale.language() == QLocale.Language.Chinese
            and locale.script() == QLocale.Script.SimplifiedHanScript):
        return "zh_CN"
    return "en"


def choose_language(setting: str | None) -> str:
    """The language to show for the user's setting: "system" (or None) follows the system locale,
    a language code of its own wins."""
    if not setting or setting == "system":
        return _language_of(QLocale.system())
    if setting in _LANGUAGES:
        return setting
    return _language_of(QLocale(setting))  # "zh_Hans", "zh-SG", "en_GB" and the like


def _default_locale(language: str) -> QLocale:
    """Numbers and dates as the system writes them when it speaks that language, else the
    language's usual locale."""
    system = QLocale.system()
    if _language_of(system) == language and system.language() != QLocale.Language.C:
        return system
    if language == "zh_CN":
        return QLocale(QLocale.Language.Chinese, QLocale.Script.SimplifiedHanScript,
                       QLocale.Country.China)
    return QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)


def _load_own(language: str) -> QTranslator | None:
    translator = QTranslator()
    resource = files("desktop.resources") / "i18n" / f"edgechat_{language}.qm"
    with as_file(resource) as path:
        if translator.load(str(path)):
            return translator
    log.warning("No translation for %s at %s", language, resource)
    return None


def _load_qt(language: str) -> QTranslator | None:
    translator = QTranslator()
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(f"qtbase_{language}", folder):
        return translator
    log.info("No Qt translation for %s in %s", language, folder)
    return None


def install_translator(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Show the interface in language ("en", "zh_CN"; anything else goes through choose_language).

    Removes the translators an earlier call installed; English installs none. Sets the default
    QLocale to match. Returns the translators now installed (the module keeps them alive too).
    """
    if language not in _LANGUAGES:
        language = choose_language(language)
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    if language != "en":
        for translator in (_load_qt(language), _load_own(language)):
            if translator is not None and app.installTranslator(translator):
                _installed.append(translator)
    QLocale.setDefault(_default_locale(language))
    # The Qt-free core's messages (engine errors, fit verdicts, download failures) go through
    # the same translators.
    set_translator(QCoreApplication.translate)
    return list(_installed)
