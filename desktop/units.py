"""How sizes and parameter counts are written, everywhere (window, command line, messages).

Qt-free. Binary units, labelled "GB"/"MB" as Windows and macOS label RAM: an 8 GB laptop
shows 8.0. Below a gigabyte, whole megabytes say more than "0.1 GB" about a small model.
"""

from __future__ import annotations

MIB = 1024**2
GIB = 1024**3


def format_bytes(n: int | float | None, unit: str | None = None) -> str:
    """``n`` bytes as "23.4 GB", or "300 MB" below a gigabyte; ``unit`` ("GB"/"MB") forces one.
    None (unknown) is "?"."""
    if n is None:
        return "?"
    if unit == "MB" or (unit is None and n < 0.995 * GIB):
        return f"{n / MIB:.0f} MB"
    if 0 < n < 0.05 * GIB:
        return "<0.1 GB"  # not "0.0 GB": a part that is there, only small
    return f"{n / GIB:.1f} GB"


def format_parameters(n: int | None) -> str:
    """A parameter count as model cards write it: "1.5B", "135M"; "?" when unknown."""
    if not n:
        return "?"
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M"
