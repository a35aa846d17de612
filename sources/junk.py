"""What synced and shared folders carry besides exports: names that are ignored, in the inbox
and inside zips, never read, never failed (DESIGN.md, "What the inbox holds besides exports")."""

from __future__ import annotations

from pathlib import PurePath

# OS and sync-tool litter, matched lower-cased.
JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", "@eadir"})
# Unfinished downloads: the finished file arrives under its own name later.
PARTIAL_SUFFIXES = (".part", ".crdownload", ".download", ".tmp")


def ignored(name: str) -> bool:
    """Whether a file or folder name is junk: hidden (`.DS_Store`, `._x`, `.stversions`),
    OS litter, an Office lock file (`~$x`), or an unfinished download."""
    if name in (".", ".."):  # not names but steps: a path that climbs is refused elsewhere
        return False
    lowered = name.lower()
    return (
        name.startswith((".", "~$")) or lowered in JUNK_NAMES or lowered.endswith(PARTIAL_SUFFIXES)
    )


def ignored_path(path: str) -> bool:
    """Whether any part of a relative path (`__MACOSX/x.csv`, `.stversions/a.csv`) is junk."""
    return any(ignored(part) for part in PurePath(path.replace("\\", "/")).parts)
