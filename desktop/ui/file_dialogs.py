"""Where file dialogs open, and the names they suggest.

A dialog first opens in the user's Documents folder (never in whatever folder the process was
started from), then where the user last went for the same purpose: opening a model, an ONNX
folder, importing or exporting a chat each remember their own folder, across starts.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

_KEY = "dialogs/last_folder/{purpose}"
# Characters no file name may hold on one system or another, and control characters.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
# Names Windows keeps for devices, whatever the extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
MAX_STEM = 120


def documents_folder() -> str:
    """The user's Documents folder; their home folder where there is none."""
    for location in (QStandardPaths.StandardLocation.DocumentsLocation,
                     QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return folder
    return str(Path.home())


def start_folder(purpose: str) -> str:
    """The folder a dialog for ``purpose`` opens in: the last one used for it while it still
    exists, else Documents."""
    last = QSettings().value(_KEY.format(purpose=purpose), "", type=str)
    if last and Path(last).is_dir():
        return last
    return documents_folder()


def remember(purpose: str, chosen: str, is_folder: bool = False) -> None:
    """The user chose ``chosen`` (a file, or a folder): its folder is where the next dialog for
    ``purpose`` opens."""
    if not chosen:
        return
    path = Path(chosen)
    folder = path if is_folder else path.parent
    QSettings().setValue(_KEY.format(purpose=purpose), str(folder))


def file_name(title: str, suffix: str, fallback: str = "chat") -> str:
    """A file name made from a chat's title: characters no system allows replaced, no dots or
    spaces at either end (so "Name three colours." gives "Name three colours.json", not
    "..json"), not too long, never empty or a device name."""
    stem = _FORBIDDEN.sub(" ", title or "")
    stem = " ".join(stem.split())
    stem = stem[:MAX_STEM].strip(" .")
    if not stem or stem.split(".")[0].upper() in _RESERVED:
        stem = f"{fallback} {stem}".strip(" .") if stem else fallback
    return stem + suffix
