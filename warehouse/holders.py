"""Who holds a lock: the kernel's list of file locks, and a process told as a person can
recognise it (a repflow run, a backup's `flock`, a DuckDB shell)."""

from __future__ import annotations

import os
from pathlib import Path


def holder(path: Path) -> int | None:
    """The process that holds a lock on the file at `path`, from the kernel's own list
    (/proc/locks on Linux); None where there is no such list, or no lock."""
    try:
        found = path.stat()
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    device = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[5] == device and fields[4].lstrip("-").isdigit():
            pid = int(fields[4])
            return pid if pid > 0 else None
    return None


def describe(pid: int) -> str:
    """`process 1234 (its command line)`, so a person can tell a repflow run from a backup."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").strip()
    except OSError:
        return f"process {pid}"
    shown = command.decode(errors="replace")
    return f"process {pid} ({shown[:117] + '...' if len(shown) > 120 else shown})"
