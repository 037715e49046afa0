"""Where EdgeChat keeps the user's data.

Everything the user owns (conversations, settings, downloaded models) lives in the platform's
user data folder, never next to the program, so an upgrade or reinstall keeps it.
``EDGECHAT_DATA_DIR`` overrides the location (tests, portable installs).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from desktop import APP_NAME, config


def data_dir() -> Path:
    override = config.data_dir_override()
    if override:
        path = Path(override)
    else:
        # platformdirs is imported here, not at module level: it is cheap, but start-up is not.
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return data_dir() / "conversations.sqlite3"


def cache_dir() -> Path:
    """Where EdgeChat keeps what it can rebuild (saved prompt states): the platform's user cache
    folder, or ``cache`` in the data folder when ``EDGECHAT_DATA_DIR`` is set (tests, portable)."""
    override = config.cache_dir_override()
    if override:
        path = Path(override)
    elif config.data_dir_override():
        path = data_dir() / "cache"
    else:
        from platformdirs import user_cache_dir

        path = Path(user_cache_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def disk_size(path: str | os.PathLike) -> int:
    """A file's size, or everything under a folder (a model's, the prompt cache's); 0 for what
    does not exist, and a file that cannot be read counts nothing."""
    path = Path(path)
    try:
        if path.is_file():
            return path.stat().st_size
        total = 0
        if path.is_dir():
            for f in path.rglob("*"):
                with contextlib.suppress(OSError):
                    if f.is_file():
                        total += f.stat().st_size
        return total
    except OSError:
        return 0
