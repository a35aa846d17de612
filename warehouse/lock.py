"""The run lock: one writer at a time, released by the operating system when a process dies."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.db import LOCK_POLL_S, WarehouseLocked

# Locks this process holds: taking one again is a no-op, so a command can lock before starting
# Prefect and the flow inside it can lock the same warehouse without waiting on itself.
_HELD: set[Path] = set()


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".run.lock")


@contextmanager
def run_lock(db: Path, timeout_s: float = 0.0) -> Iterator[None]:
    """Hold an exclusive flock beside `db`; wait up to `timeout_s`, then name the holder."""
    path = lock_path(db).resolve()
    if path in _HELD:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise WarehouseLocked(
                        f"another repflow run (PID {holder}) is writing {db}; "
                        f"waited {timeout_s:g} s"
                    ) from None
                time.sleep(LOCK_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
    finally:
        handle.close()  # closing the descriptor releases the flock
