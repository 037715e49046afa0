"""Images shipped with the app, read through importlib.resources (same from source and frozen)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from PySide6.QtGui import QIcon, QPixmap


@cache
def app_icon() -> QIcon:
    pixmap = QPixmap()
    pixmap.loadFromData(files("desktop.resources").joinpath("edgechat.png").read_bytes())
    return QIcon(pixmap)
