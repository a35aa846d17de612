"""A large file's validated sets and its rejects, spooled to Parquet one batch at a time.

A file too large to hold at once is read, validated and written here batch by batch; the loader
then reads the spool with DuckDB, which streams it and spills to disk where it must. Rejects are
spooled too: a file of bad rows is as large as a file of good ones.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import polars as pl


class Spool:
    """A folder of Parquet parts, removed when the spool is removed or garbage-collected.

    `unnumbered` counts sets without a set number: the loader numbers them across batches."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="repflow-spool-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self.parts = 0
        self.height = 0  # sets
        self.unnumbered = 0
        self.rejected = 0

    def write(self, sets: pl.DataFrame, rejects: pl.DataFrame) -> None:
        # Every batch writes both, so that each pattern matches at least one file.
        # lz4: the spool is read once, soon; speed matters more than size.
        sets.write_parquet(self.folder / f"sets-{self.parts:06d}.parquet", compression="lz4")
        rejects.write_parquet(self.folder / f"rejects-{self.parts:06d}.parquet", compression="lz4")
        self.parts += 1
        self.height += sets.height
        self.unnumbered += sets["set_index"].null_count()
        self.rejected += rejects.height

    @property
    def sets_pattern(self) -> str:
        """What DuckDB's read_parquet and polars' read_parquet take to read every part."""
        return str(self.folder / "sets-*.parquet")

    @property
    def rejects_pattern(self) -> str:
        return str(self.folder / "rejects-*.parquet")

    def sets(self) -> pl.DataFrame:
        return pl.read_parquet(self.sets_pattern)

    def rejects(self) -> pl.DataFrame:
        return pl.read_parquet(self.rejects_pattern)

    def remove(self) -> None:
        self._remove()
