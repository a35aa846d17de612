"""Reading one file: its fingerprint, then detect, read and validate, in this process or on
a worker (as Arrow). Nothing here imports Prefect."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TypeVar, cast

import polars as pl
import pyarrow as pa

import sources
from flows.config import Config
from flows.reexport import StoredRows, read_known, row_seed, stored_hashes
from schemas.row_hash import with_row_hashes
from schemas.set_row import RowContext
from schemas.validate import validate
from sources.base import Notes
from sources.csv_text import UnreadableFile
from warehouse.db import target
from warehouse.load import FileInfo
from warehouse.spool import Spool
from warehouse.stored_lines import stored_lines

HASH_CHUNK = 1 << 20


def fingerprint(path: Path, relative: str, athlete_id: str | None) -> FileInfo:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    file_id = hashlib.sha256(f"{athlete_id or ''}\x1f{sha}".encode()).hexdigest()[:16]
    return FileInfo(file_id, relative, sha, size, athlete_id)


@dataclass(frozen=True)
class ParsedFile:
    """A file read and validated, ready for the single writer. A large file's sets and rejects
    wait in one spool on disk, not in memory (`sets` and `rejects` are then that spool)."""

    format: str
    sets: pl.DataFrame | Spool
    rejects: pl.DataFrame | Spool
    skipped: int
    machines: pl.DataFrame | None = None
    known: int = 0  # rows of a re-export stored already: neither validated nor loaded again
    reader_version: int = 1  # of the format's reader (sources.reader_version)
    notes: Notes = field(default_factory=Notes)  # how it was read: listed, not stored
    rep_metrics: pl.DataFrame | None = None  # each rep's data, where the source records it

    def tables(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The sets and the rejects as frames, read back from the spool if there is one."""
        if isinstance(self.sets, Spool):
            return self.sets.sets(), self.sets.rejects()
        assert isinstance(self.rejects, pl.DataFrame)  # spooled with the sets, or not at all
        return self.sets, self.rejects


@dataclass(frozen=True)
class ArrowFile:
    """A parsed file as Arrow tables: what a parse in another process or on another host sends
    back. Arrow crosses process boundaries as plain buffers and holds no connection."""

    format: str
    sets: pa.Table
    rejects: pa.Table
    skipped: int
    machines: pa.Table | None = None
    groups: pa.Table | None = None  # a spooled file's set groups (warehouse.spool)
    known: int = 0
    reader_version: int = 1
    notes: Notes = field(default_factory=Notes)
    rep_metrics: pa.Table | None = None

    @classmethod
    def of(cls, parsed: ParsedFile) -> ArrowFile:
        # A spool is a local folder another host cannot read: its parts travel whole.
        sets, rejects = parsed.tables()
        groups = parsed.sets.groups().to_arrow() if isinstance(parsed.sets, Spool) else None
        machines = None if parsed.machines is None else parsed.machines.to_arrow()
        reps = None if parsed.rep_metrics is None else parsed.rep_metrics.to_arrow()
        return cls(
            parsed.format,
            sets.to_arrow(),
            rejects.to_arrow(),
            parsed.skipped,
            machines,
            groups,
            parsed.known,
            parsed.reader_version,
            parsed.notes,
            reps,
        )

    def frames(self) -> ParsedFile:
        machines = None if self.machines is None else _frame(self.machines)
        sets, rejects = _frame(self.sets), _frame(self.rejects)
        reps = None if self.rep_metrics is None else _frame(self.rep_metrics)
        read = (self.skipped, machines, self.known, self.reader_version, self.notes, reps)
        if self.groups is None:
            return ParsedFile(self.format, sets, rejects, *read)
        spool = Spool()
        spool.add(sets, rejects, _frame(self.groups))
        return ParsedFile(self.format, spool, spool, *read)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a Table always converts to a frame
    return frame


def parse(path: Path, athlete_id: str | None, config: Config) -> ParsedFile | str:
    """Detect, read and validate one file, or say why it fails as a whole. A re-export's rows
    that the warehouse holds already are looked up, not validated again (flows/reexport.py).

    An OSError is raised, not returned: the caller may retry it (a file briefly locked)."""
    with stored_lines(target(config.settings)) as stored:
        return parse_with(path, athlete_id, config.settings.row_context(), stored)


def parse_to_arrow(path: str, athlete_id: str | None, context: RowContext) -> ArrowFile | str:
    """`parse` for a worker process or host: it takes a path every worker can read and the
    little config validation needs, and returns Arrow tables, never a connection."""
    result = parse_with(Path(path), athlete_id, context)
    return result if isinstance(result, str) else ArrowFile.of(result)


def parse_with(
    path: Path, athlete_id: str | None, context: RowContext, stored: StoredRows | None = None
) -> ParsedFile | str:
    try:
        return _parse(path, athlete_id, context, stored)
    except OSError:
        raise
    except Exception as exc:
        return read_failure(exc)


def _parse(
    path: Path, athlete_id: str | None, context: RowContext, stored: StoredRows | None
) -> ParsedFile:
    parsed = sources.read(path)

    def done(
        sets: pl.DataFrame | Spool, rejects: pl.DataFrame | Spool, known: int = 0
    ) -> ParsedFile:
        version = sources.reader_version(parsed.format)
        return ParsedFile(
            parsed.format,
            sets,
            rejects,
            parsed.skipped,
            parsed.machines,
            known,
            version,
            parsed.notes,
            parsed.rep_metrics,
        )

    if athlete_id is None and not parsed.names_athletes:
        raise UnreadableFile(
            "no athlete folder: put the file in inbox/<athlete_id>/, or name athletes in it"
        )
    batches = parsed.batches()
    first = next(batches)
    second = next(batches, None)
    hashes = None if stored is None else stored_hashes(first, parsed.format, athlete_id, stored)
    if stored is not None and hashes is not None:  # rows stored: a re-export, perhaps
        pending = [first] if second is None else reporting(chain([first, second], batches))
        again = read_known(pending, parsed.format, context, athlete_id, stored, hashes)
        if again is not None:
            return done(again.sets, again.rejects, again.known)
        if second is not None:  # its batches are spent: read it again, in full
            return _parse(path, athlete_id, context, None)
    # Every set keeps the hash of its row, for the next re-export to look up.
    seed = row_seed(context, athlete_id, parsed.format)
    if second is None:
        validated = validate(with_row_hashes(first, seed), context, athlete_id)
        return done(validated.sets, validated.rejects)
    # A large file: each batch validated and spooled in turn, so memory holds a few batches:
    # the next one is read and the last one written while this one is validated.
    spool = Spool()
    pending = reporting(chain([first, second], batches))
    del first, second  # so each batch is freed once spooled
    try:
        for batch in read_ahead(pending):
            validated = validate(with_row_hashes(batch, seed), context, athlete_id, whole=False)
            spool.write(validated.sets, validated.rejects)
            del batch, validated
        spool.finish()  # a write's error (a full disk) is the parse's
    except BaseException:
        spool.remove()  # after its pending write, so that no part outlives the folder
        raise
    return done(spool, spool)


T = TypeVar("T")


_END = object()


# Told how many bytes of a large file the parse has read so far, batch by batch. A context
# variable, not a parameter of the parse step: that step is a Prefect task, whose parameters
# are data. Only a parse in this process reports (not one on a Dask worker).
READING: ContextVar[Callable[[int], None] | None] = ContextVar("READING", default=None)


def reporting(batches: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """`batches`, each told to READING as it is read: the bytes of its records' text (`raw`)
    and their line breaks, added up. READING is read now, in the caller's context: the
    batches themselves may be read in another thread (`read_ahead`)."""
    read = READING.get()
    return batches if read is None else _told(batches, read)


def _told(batches: Iterator[pl.DataFrame], read: Callable[[int], None]) -> Iterator[pl.DataFrame]:
    done = 0
    for batch in batches:
        done += int(batch["raw"].str.len_bytes().sum()) + batch.height
        read(done)
        yield batch


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, each produced in a thread of its own while the caller works on the one before.
    Reading a batch is polars work that releases the GIL: on two cores it overlaps validation."""
    with ThreadPoolExecutor(1, thread_name_prefix="repflow-read") as reader:
        coming = reader.submit(next, items, _END)
        while (item := coming.result()) is not _END:
            coming = reader.submit(next, items, _END)
            yield cast(T, item)


def read_failure(exc: Exception) -> str:
    if isinstance(exc, UnreadableFile):
        return str(exc)
    if isinstance(exc, OSError):
        return f"could not read the file: {exc.strerror or exc}"
    # A reader bug must not stop the night: the file fails, with what went wrong.
    return f"internal error while reading ({type(exc).__name__}: {exc})"
