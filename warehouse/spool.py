"""Validated sets of a large file, spooled to Parquet one batch at a time.

A file too large to hold at once is read, validated and written here batch by batch; the loader
then reads the spool with DuckDB, which streams it and spills to disk where it must.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path

import polars as pl


class Spool:
    """A folder of Parquet parts, removed when the spool is removed or garbage-collected."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="repflow-spool-"))
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, True)
        self.parts = 0
        self.height = 0

    def write(self, frame: pl.DataFrame) -> None:
        # lz4: the spool is read once, soon; speed matters more than size.
        frame.write_parquet(self.folder / f"part-{self.parts:06d}.parquet", compression="lz4")
        self.parts += 1
        self.height += frame.height

    @property
    def pattern(self) -> str:
        """What DuckDB's read_parquet and polars' scan_parquet take to read every part."""
        return str(self.folder / "part-*.parquet")

    def read(self) -> pl.DataFrame:
        return pl.read_parquet(self.pattern)

    def remove(self) -> None:
        self._remove()
