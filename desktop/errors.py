"""One base class for errors whose message is written for the user.

Anything raised as a ``UserError`` (engine, GGUF/ONNX, store, download, Hub, library, catalog,
keyring errors) is shown as it is; any other exception is a bug: it is logged with its traceback
and the user is told that something went wrong and where the log is. Qt-free: the core and the
command line use it too.
"""

from __future__ import annotations


class UserError(Exception):
    """An error whose message is meant for the user, as it is."""
