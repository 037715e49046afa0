"""The keys EdgeChat keeps in QSettings (window state and preferences), in one place."""

THEME = "ui/theme"  # "system" | "light" | "dark"
LANGUAGE = "ui/language"  # "system" or a language code
GEOMETRY = "main/geometry"
SPLITTER = "main/splitter"
CHAT_SETTINGS_SHOWN = "main/chat_settings"
# The model id (a path, or remote://...) that loaded last: loaded again at the next start.
LAST_MODEL = "models/last"
SIDEBAR_SHOWN = "main/sidebar"  # the chat list shown (Ctrl+B hides it)
OFFLINE = "network/offline"  # Work offline (desktop/privacy.py), applied at every start


def last_chat(database_id: str) -> str:
    """The chat that was open, per database: another data folder has other chats, same ids."""
    return f"main/last_chat/{database_id}"
