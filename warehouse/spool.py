"""A large file's validated sets and its rejects, spooled to Parquet one batch at a time.

A file too large to hold at once is read, validated and written here batch by batch; the loader
then reads the spool with DuckDB, which streams it and spills to disk where it must. Rejects are
spooled too: a file of bad rows is as large as a file of good ones.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from schemas.validate import SET_GROUP

# Spool folders are named after their process, so that a killed run's spool can be told apart.
PREFIX = "repflow-spool-"
# Parts are written here, one at a time, while the caller goes on with the next batch.
_WRITER = ThreadPoolExecutor(1, thread_name_prefix="repflow-spool")


class Spool:
    """A folder of Parquet parts, removed when the spool is removed or garbage-collected.

    `unnumbered` counts sets without a set number: the loader numbers them across batches.
    Parts are written in a thread of their own while the caller validates the next batch
    (polars writes Parquet without the GIL); one write at a time, so memory holds at most the
    batch being written besides the one being read. `finish()` waits for the last write."""

    def __init__(self) -> None:
        _remove_orphans()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self._writing: Future[None] | None = None
        self.parts = 0
        self.height = 0  # sets
        self.unnumbered = 0
        self.rejected = 0

    def write(self, sets: pl.DataFrame, rejects: pl.DataFrame) -> None:
        """One batch: its sets (numbered within the batch, `derived` saying which) and rejects.

        Beside them goes the number of sets in each set group of the batch, from which the
        loader continues the numbering of a group that goes on in a later batch."""
        batch = pl.lit(self.parts, pl.Int64).alias("batch")
        groups = sets.group_by(SET_GROUP).len("sets").with_columns(batch)
        self.finish()  # the previous part is written (or its error raised) before the next
        parts = self._parts(sets.with_columns(batch), rejects, groups)
        self._count(sets, rejects)
        self._writing = _WRITER.submit(_write, parts, self.folder)

    def add(self, sets: pl.DataFrame, rejects: pl.DataFrame, groups: pl.DataFrame) -> None:
        """Parts as `write` makes them, or as `sets()`, `rejects()` and `groups()` read them."""
        self.finish()
        _write(self._parts(sets, rejects, groups), self.folder)
        self._count(sets, rejects)

    def finish(self) -> None:
        """Wait for the part being written; raise its error (a full disk) here, and again on
        every later call: a spool that lost a part is never read."""
        if self._writing is not None:
            self._writing.result()
            self._writing = None

    def _count(self, sets: pl.DataFrame, rejects: pl.DataFrame) -> None:
        self.parts += 1
        self.height += sets.height
        self.unnumbered += int(sets["derived"].sum())
        self.rejected += rejects.height

    def _parts(
        self, sets: pl.DataFrame, rejects: pl.DataFrame, groups: pl.DataFrame
    ) -> list[tuple[Path, pl.DataFrame]]:
        # Every batch writes its sets and rejects, so each pattern matches at least one file.
        kinds = {"sets": sets, "rejects": rejects, "groups": groups}
        return [(self.folder / f"{k}-{self.parts:06d}.parquet", f) for k, f in kinds.items()]

    @property
    def sets_pattern(self) -> str:
        """What DuckDB's read_parquet and polars' read_parquet take to read every part."""
        self.finish()
        return str(self.folder / "sets-*.parquet")

    @property
    def rejects_pattern(self) -> str:
        self.finish()
        return str(self.folder / "rejects-*.parquet")

    @property
    def groups_pattern(self) -> str:
        """How many sets each set group has in each batch."""
        self.finish()
        return str(self.folder / "groups-*.parquet")

    def sets(self) -> pl.DataFrame:
        return pl.read_parquet(self.sets_pattern)

    def rejects(self) -> pl.DataFrame:
        return pl.read_parquet(self.rejects_pattern)

    def groups(self) -> pl.DataFrame:
        return pl.read_parquet(self.groups_pattern)

    def remove(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.exception()  # wait; the spool is going, its write errors with it
        self._remove()


def _write(parts: list[tuple[Path, pl.DataFrame]], folder: Path) -> None:
    # lz4: the spool is read once, soon; speed matters more than size.
    for path, frame in parts:
        try:
            frame.write_parquet(path, compression="lz4")
        except pl.exceptions.ComputeError as exc:  # polars' I/O errors, a full disk too
            raise OSError(f"could not write the spool in {folder}: {exc}") from exc


def _remove_orphans() -> None:
    """Remove the spools of processes that died without removing them (a killed run)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*-*"):
        pid = folder.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
