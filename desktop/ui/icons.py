"""The app's images: its own logo, and the icons of the window, drawn from one icon set.

Icons come from qtawesome's Material Design Icons ("mdi6.content-copy", see
https://pictogrammers.com/library/mdi/), drawn in the current palette's colours. A theme switch
changes the palette, so an icon set with set_icon() is drawn again in the new colours at once:

    set_icon(button, "mdi6.content-copy")           # a QAbstractButton or a QAction
    set_icon(button, "mdi6.delete-outline", tone="muted")
    icon("mdi6.check")                               # a plain QIcon, for the palette of now

Tones: "normal" (the text colour), "muted" (the placeholder text colour: secondary actions),
"accent" (the highlight colour), "danger" (a red that reads on light and dark).
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import cache
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

# qtawesome reaches Qt through QtPy, which picks whichever binding it finds first: the one the
# app runs on is PySide6, whatever else is installed beside it.
os.environ.setdefault("QT_API", "pyside6")

ICON_PROPERTY = "edgechatIcon"  # the icon's name and tone, kept on the widget or action it is on
TONES = ("normal", "muted", "accent", "danger")


@cache
def app_icon() -> QIcon:
    pixmap = QPixmap()
    pixmap.loadFromData(files("desktop.resources").joinpath("edgechat.png").read_bytes())
    return QIcon(pixmap)


def tone_color(tone: str = "normal", palette: QPalette | None = None) -> QColor:
    palette = palette or QGuiApplication.palette()
    roles = QPalette.ColorRole
    if tone == "muted":
        return palette.color(roles.PlaceholderText)
    if tone == "accent":
        return palette.color(roles.Highlight)
    if tone == "danger":
        dark = palette.color(roles.Window).lightness() < 128
        return QColor("#ff7b72" if dark else "#c0392b")
    return palette.color(roles.ButtonText)


SIZES = (16, 20, 24)  # drawn ahead; other sizes are scaled from the nearest


def icon(name: str, tone: str = "normal") -> QIcon:
    """An icon of the set, drawn in the colours of the palette in use now."""
    _watch_palette()
    palette = QGuiApplication.palette()
    key = (name, tone, tone_color(tone, palette).rgba(),
           palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText).rgba())
    cached = _icons.get(key)
    if cached is None:
        cached = _icons[key] = _draw(name, tone, palette)
    return cached


_icons: dict[tuple, QIcon] = {}


@cache
def _mdi_font() -> tuple[str, dict[str, str]] | None:
    """qtawesome's Material Design Icons font, loaded straight from its package: importing
    qtawesome costs ~150 ms of start-up (QtPy imports every Qt class), drawing a glyph does not
    need it. None if the files are not where qtawesome keeps them (then qtawesome draws)."""
    spec = importlib.util.find_spec("qtawesome")
    if spec is None or not spec.submodule_search_locations:
        return None
    fonts = Path(next(iter(spec.submodule_search_locations))) / "fonts"
    ttf = sorted(fonts.glob("materialdesignicons6-webfont-[0-9]*.ttf"))
    charmap = sorted(fonts.glob("materialdesignicons6-webfont-charmap-*.json"))
    if not ttf or not charmap:
        return None
    families = QFontDatabase.applicationFontFamilies(
        QFontDatabase.addApplicationFontFromData(ttf[-1].read_bytes()))
    if not families:
        return None
    return families[0], json.loads(charmap[-1].read_text(encoding="utf-8"))


def _draw_mdi(name: str, color: QColor, disabled: QColor) -> QIcon | None:
    font = _mdi_font()
    code = font[1].get(name) if font else None
    if code is None:
        return None
    glyph = chr(int(code, 16))
    screen = QGuiApplication.primaryScreen()
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    out = QIcon()
    for mode, pen in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, disabled)):
        for size in SIZES:
            pixmap = QPixmap(round(size * ratio), round(size * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            face = QFont(font[0])
            face.setPixelSize(round(size * 0.875))  # as qtawesome draws it: room for the bearing
            painter.setFont(face)
            painter.setPen(pen)
            painter.drawText(QRect(0, 0, size, size), int(Qt.AlignmentFlag.AlignCenter), glyph)
            painter.end()
            out.addPixmap(pixmap, mode)
    return out


def _draw(name: str, tone: str, palette: QPalette) -> QIcon:
    color = tone_color(tone, palette)
    disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText)
    if name.startswith("mdi6."):
        drawn = _draw_mdi(name[5:], color, disabled)
        if drawn is not None:
            return drawn
    import qtawesome  # ~150 ms of QtPy imports, not paid at start-up by the mdi6 icons

    drawn = qtawesome.icon(name, color=color, color_active=color, color_selected=color,
                           color_disabled=disabled)
    # qtawesome draws its font's glyph at every paint (~0.3 ms an icon); pixmaps drawn once are
    # a copy each time, and a window repaints its buttons all the time.
    out = QIcon()
    for mode in (QIcon.Mode.Normal, QIcon.Mode.Disabled):
        for size in SIZES:
            out.addPixmap(drawn.pixmap(QSize(size, size), mode), mode)
    return out


def set_icon(target: QAbstractButton | QAction, name: str, tone: str = "normal") -> None:
    """Put an icon on a button or action, and draw it again whenever the palette changes."""
    target.setProperty(ICON_PROPERTY, f"{name}|{tone}")
    target.setIcon(icon(name, tone))


def refresh_icons() -> None:
    """Draw every icon set with set_icon() again, in the palette's colours (a theme switch)."""
    app = QApplication.instance()
    if app is None:
        return
    seen: set[int] = set()
    for widget in QApplication.allWidgets():
        _refresh(widget, seen)
        for action in widget.actions():
            _refresh(action, seen)


def _refresh(target: QObject, seen: set[int]) -> None:
    spec = target.property(ICON_PROPERTY)
    if not spec or id(target) in seen:
        return
    seen.add(id(target))
    name, _, tone = str(spec).partition("|")
    target.setIcon(icon(name, tone or "normal"))


class _PaletteWatcher(QWidget):
    """Redraws the icons when the application's palette changes (theme.apply_theme, or the
    system's own switch). A hidden widget: it is told of the change like every widget, which an
    event filter on the application would only learn by seeing every event of the app."""

    def event(self, event):  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            refresh_icons()
        return super().event(event)


_watcher: list[_PaletteWatcher] = []


def _watch_palette() -> None:
    if not _watcher and QApplication.instance() is not None:
        _watcher.append(_PaletteWatcher())
