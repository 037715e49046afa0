"""Light and dark appearance: follow the system, or the user's choice in Settings.

Qt reports the system's colour scheme (QStyleHints.colorScheme) on Windows, macOS and the Linux
desktops that publish one, and native styles repaint themselves when it changes. Where the style
in use has no dark palette of its own (Windows' classic style, or a bare X session), a dark
system, or an explicit choice, gets Fusion with our palette, so the window is never light
widgets on a dark desktop. Every colour in our own widgets refers to the palette, so they follow.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEMES = ("system", "light", "dark")
_state = {"choice": "system", "style": None, "connected": False}


def dark_palette() -> QPalette:
    p = QPalette()
    roles = QPalette.ColorRole
    colors = {
        roles.Window: "#1f2125", roles.WindowText: "#e6e6e6", roles.Base: "#17181b",
        roles.AlternateBase: "#2a2d33", roles.ToolTipBase: "#2a2d33", roles.ToolTipText: "#e6e6e6",
        roles.PlaceholderText: "#8b9099", roles.Text: "#e6e6e6", roles.Button: "#2a2d33",
        roles.ButtonText: "#e6e6e6", roles.BrightText: "#ff6b6b", roles.Link: "#6cb6ff",
        roles.Highlight: "#3d6fb4", roles.HighlightedText: "#ffffff", roles.Mid: "#4a4e57",
        roles.Dark: "#101114", roles.Light: "#3a3d44", roles.Shadow: "#000000",
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (roles.Text, roles.ButtonText, roles.WindowText):
        p.setColor(disabled, role, QColor("#6b6f78"))
    return p


def light_palette() -> QPalette:
    return QStyleFactory.create("Fusion").standardPalette()


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def apply_theme(app: QApplication, choice: str = "system") -> str:
    """Apply a theme; returns "light" or "dark", what the window now shows."""
    choice = choice if choice in THEMES else "system"
    _state["choice"] = choice
    if _state["style"] is None:
        _state["style"] = app.style().name()
    hints = app.styleHints()
    if not _state["connected"]:
        # Follow the system live when the user chose "system".
        hints.colorSchemeChanged.connect(lambda _scheme: apply_theme(app, _state["choice"]))
        _state["connected"] = True
    want_dark = choice == "dark" or (choice == "system" and system_is_dark())
    if choice == "system":
        app.setStyle(_state["style"])
        native = app.style().standardPalette()
        if is_dark(native) == want_dark:
            app.setPalette(native)
            return "dark" if want_dark else "light"
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if want_dark else light_palette())
    return "dark" if want_dark else "light"
