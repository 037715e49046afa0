"""The storage layer's errors, apart so that the store and the importer can both raise them."""

from __future__ import annotations

from desktop.errors import UserError


class StoreError(UserError):
    pass


class NewerSchemaError(StoreError):
    """The database was written by a newer EdgeChat: it is fine, this version cannot read it."""


class DamagedDatabaseError(StoreError):
    """SQLite says the file is not a database or its pages are corrupt (not: locked, no access)."""


class ImportCancelled(StoreError):
    """The user cancelled an import; nothing was written."""
