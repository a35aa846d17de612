"""The analyst snapshot: a copy of the working database, replaced atomically.

Analysts open the snapshot read-only and never block the nightly writer; a reader that holds
the old file keeps reading it until it reconnects (rename keeps the old inode alive).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from warehouse.db import connect


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(db: Path, snapshot: Path, timeout_s: float = 0.0) -> None:
    """Checkpoint `db`, copy it beside `snapshot`, and rename the copy over `snapshot`."""
    tmp = snapshot.with_name(snapshot.name + ".tmp")
    con = connect(db, timeout_s=timeout_s)
    try:
        con.execute("CHECKPOINT")
        shutil.copyfile(db, tmp)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk must not keep half a copy
        raise
    finally:
        con.close()
    os.replace(tmp, snapshot)
    _fsync_dir(snapshot.parent)
