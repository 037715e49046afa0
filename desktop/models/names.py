"""What a repository id and a file path from the catalog or the Hub may look like.

One strict rule for both sources: a Hub answer is as untrusted as a catalog file, and a path
that leaves the model folder (absolute, a drive letter, "..", a backslash) must never reach
the disk. Qt-free.
"""

from __future__ import annotations

import re
from typing import Any

_REPO_PART_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def is_repo_id(value: Any) -> bool:
    """'owner/name', each part of letters, digits, '.', '_' and '-', and no '..'."""
    parts = value.split("/") if isinstance(value, str) else []
    return len(parts) == 2 and all(_REPO_PART_RE.fullmatch(p) and ".." not in p for p in parts)


def path_problem(value: Any) -> str | None:
    """Why ``value`` is not a safe POSIX path relative to a repository, or None if it is."""
    if not isinstance(value, str) or not value:
        return "is not a non-empty string"
    if len(value) > 1024:
        return "is too long"
    if "\\" in value:
        return "contains a backslash"
    if ":" in value:
        return "contains ':' (a drive letter or stream name)"
    if value.startswith("/"):
        return "is absolute"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return "contains a control character"
    if any(segment in ("", ".", "..") for segment in value.split("/")):
        return "has an empty, '.' or '..' segment"
    return None
