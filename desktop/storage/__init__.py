"""Persistent state: conversations in SQLite. Qt-free."""

from desktop.storage.store import Conversation, ConversationStore, StoredMessage

__all__ = ["Conversation", "ConversationStore", "StoredMessage"]
