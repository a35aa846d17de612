"""Reading one file: read it once (its bytes, their sha256, unchanged since it was found), then
detect, read and validate what was read, in this process or on a worker (as Arrow). Nothing
here imports Prefect."""

from __future__ import annotations

import errno
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from itertools import chain
from pathlib import Path
from typing import TypeVar, cast

import polars as pl
import pyarrow as pa

import sources
from flows.config import Config
from flows.discovery import Discovered
from flows.reexport import StoredRows, read_known, row_seed, stored_hashes
from schemas.row_hash import with_row_hashes
from schemas.set_row import RowContext
from schemas.settings import Settings
from schemas.validate import one_rule_fails_all, validate
from sources import content, timestamps, units
from sources.base import Decisions, Earlier, Notes, Parsed, ReadHints
from sources.content import ChangedWhileRead, Content, LongLine, Source
from sources.csv_text import UnreadableFile
from warehouse.db import target
from warehouse.load import FileInfo
from warehouse.spool import Spool
from warehouse.stored_lines import StoredLines, stored_lines

# Read errors that can pass (a file briefly busy, a network filesystem's hiccup) are retried
# after these delays; any other (permissions, gone) fails the file at once.
TRANSIENT = {errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ESTALE, errno.ETIMEDOUT}
IO_RETRY_DELAYS = (1.0, 5.0)


class Deferred(str):
    """Why a file is left for the next run: it changed while it was read, or is still being
    written. Not stored, not failed."""


def read_found(
    found: Discovered, settle_s: float, keep: bool = True, copy_to: Path | None = None
) -> Content:
    """Read a discovered file once (sources.content), retrying an error that can pass. Raises
    ChangedWhileRead, or the OSError that stays."""
    for delay in (*IO_RETRY_DELAYS, None):
        try:
            return content.read(found.path, found.seen, settle_s, keep=keep, copy_to=copy_to)
        except OSError as exc:
            if delay is None or exc.errno not in TRANSIENT:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def file_id(athlete_id: str | None, key: str) -> str:
    return hashlib.sha256(f"{athlete_id or ''}\x1f{key}".encode()).hexdigest()[:16]


def file_info(read: Content, relative: str, athlete_id: str | None) -> FileInfo:
    """The record of a file read: its id comes from its athlete and the sha256 of its bytes."""
    return FileInfo(file_id(athlete_id, read.sha256), relative, read.sha256, read.size, athlete_id)


def unread_info(found: Discovered) -> FileInfo:
    """The record of a file that could not be read at all: no sha256, and an id of its path,
    which the next record of that path replaces (warehouse.load)."""
    size = found.seen.size if found.seen is not None else 0
    unread = f"unread\x1f{found.relative}"
    return FileInfo(file_id(found.athlete_id, unread), found.relative, "", size, found.athlete_id)


def fingerprint(path: Path, relative: str, athlete_id: str | None) -> FileInfo:
    """The record of the file at `path` as it is now, read once without keeping its bytes."""
    return file_info(content.read(path, None, keep=False), relative, athlete_id)


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
    decisions: Decisions = field(default_factory=Decisions)  # its unit, its date order: stored
    muscles: pl.DataFrame | None = None  # muscle groups it gives its exercises: stored
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
    decisions: Decisions = field(default_factory=Decisions)
    muscles: pa.Table | None = None
    rep_metrics: pa.Table | None = None

    @classmethod
    def of(cls, parsed: ParsedFile) -> ArrowFile:
        # A spool is a local folder another host cannot read: its parts travel whole.
        sets, rejects = parsed.tables()
        groups = parsed.sets.groups().to_arrow() if isinstance(parsed.sets, Spool) else None
        machines = None if parsed.machines is None else parsed.machines.to_arrow()
        muscles = None if parsed.muscles is None else parsed.muscles.to_arrow()
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
            parsed.decisions,
            muscles,
            reps,
        )

    def frames(self) -> ParsedFile:
        machines = None if self.machines is None else _frame(self.machines)
        muscles = None if self.muscles is None else _frame(self.muscles)
        sets, rejects = _frame(self.sets), _frame(self.rejects)
        muscles = None if self.muscles is None else _frame(self.muscles)
        reps = None if self.rep_metrics is None else _frame(self.rep_metrics)
        read = (
            self.skipped,
            machines,
            self.known,
            self.reader_version,
            self.notes,
            self.decisions,
            muscles,
            reps,
        )
        if self.groups is None:
            return ParsedFile(self.format, sets, rejects, *read)
        spool = Spool()
        spool.add(sets, rejects, _frame(self.groups))
        return ParsedFile(self.format, spool, spool, *read)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a Table always converts to a frame
    return frame


def read_hints(
    settings: Settings, athlete_id: str | None, earlier: Mapping[str, Earlier]
) -> ReadHints:
    """What a reader reads an athlete's file with where it says nothing: the athlete's
    settings, and per format what their earlier files were read in (`earlier`)."""
    own = settings.athletes.get(athlete_id or "")
    return ReadHints(
        unit=(own.unit if own else None) or settings.unit,
        file_unit=own.file_unit if own else None,
        date_order=own.date_order if own else None,
        earlier_files=earlier,
    )


class EarlierReads(Mapping[str, Earlier]):
    """An athlete's earlier files per format (warehouse.ingested.earlier_reads), asked of the
    warehouse when a reader first needs them: most files state their unit and write no date
    in numbers. Only a unit inferred and an order shown by a file's own dates carry over."""

    def __init__(self, stored: StoredLines, athlete_id: str | None, excluding: str | None = None):
        self._ask = partial(
            stored.earlier_reads, athlete_id, units.STICKY, timestamps.STICKY, excluding
        )
        self._found: dict[str, Earlier] | None = None

    def _reads(self) -> dict[str, Earlier]:
        if self._found is None:
            self._found = {fmt: Earlier(*read) for fmt, read in self._ask().items()}
        return self._found

    def __getitem__(self, fmt: str) -> Earlier:
        return self._reads()[fmt]

    def __iter__(self) -> Iterator[str]:
        return iter(self._reads())

    def __len__(self) -> int:
        return len(self._reads())


def hints_for(config: Config, athlete_id: str | None, excluding: str | None = None) -> ReadHints:
    """`read_hints` as the warehouse stands now, looked up at once: for a parse elsewhere (a
    worker) or a file read again (`excluding` it)."""
    with stored_lines(target(config.settings)) as stored:
        earlier = dict(EarlierReads(stored, athlete_id, excluding))
    return read_hints(config.settings, athlete_id, earlier)


def parse(read: Content, athlete_id: str | None, config: Config) -> ParsedFile | str:
    """Detect, read and validate the bytes of one file as they were read, or say why it fails
    as a whole. A re-export's rows that the warehouse holds already are looked up, not
    validated again (flows/reexport.py)."""
    settings = config.settings
    with stored_lines(target(settings)) as stored:
        hints = read_hints(settings, athlete_id, EarlierReads(stored, athlete_id))
        context = settings.row_context()
        return parse_with(read.source(), athlete_id, context, hints, stored, read.long_line)


def parse_to_arrow(
    path: str, athlete_id: str | None, context: RowContext, hints: ReadHints, sha256: str
) -> ArrowFile | str:
    """`parse` for a worker process or host: it takes a path every worker can read, the sha256
    the writer read there, and the little config validation needs, and returns Arrow tables,
    never a connection. Bytes other than those hashed are Deferred, not parsed."""
    with tempfile.TemporaryDirectory(prefix="repflow-read-") as folder:
        try:
            read = content.read(Path(path), None, keep=True, copy_to=Path(folder))
        except ChangedWhileRead as exc:
            return Deferred(f"changed while it was read: {exc}")
        if read.sha256 != sha256:
            return Deferred("changed while it was read: its bytes are not those found")
        result = parse_with(read.source(), athlete_id, context, hints, None, read.long_line)
        return result if isinstance(result, str) else ArrowFile.of(result)


def parse_with(
    source: Source,
    athlete_id: str | None,
    context: RowContext,
    hints: ReadHints,
    stored: StoredRows | None = None,
    long_line: LongLine | None = None,
) -> ParsedFile | str:
    try:
        return _parse(source, athlete_id, context, hints, stored, long_line)
    except OSError:  # the bytes were read already: a full disk, not the file's fault
        raise
    except Exception as exc:
        return read_failure(exc)


def _parse(
    source: Source,
    athlete_id: str | None,
    context: RowContext,
    hints: ReadHints,
    stored: StoredRows | None,
    long_line: LongLine | None,
) -> ParsedFile:
    parsed = sources.read(source, hints, long_line)
    done = partial(parsed_file, parsed)
    athlete_named(parsed, athlete_id)
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
            return _parse(source, athlete_id, context, hints, None, long_line)
    # Every set keeps the hash of its row, for the next re-export to look up.
    seed = row_seed(context, athlete_id, parsed.format)
    if second is None:
        validated = validate(with_row_hashes(first, seed), context, athlete_id)
        fails_whole(validated.sets.height, validated.rejects)
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
        if spool.height == 0:
            fails_whole(0, spool.rejects())
    except BaseException:
        spool.remove()  # after its pending write, so that no part outlives the folder
        raise
    return done(spool, spool)


def parsed_file(
    parsed: Parsed, sets: pl.DataFrame | Spool, rejects: pl.DataFrame | Spool, known: int = 0
) -> ParsedFile:
    """A file read (`parsed`) with its validated sets and rejects."""
    return ParsedFile(
        parsed.format,
        sets,
        rejects,
        parsed.skipped,
        parsed.machines,
        known,
        sources.reader_version(parsed.format),
        parsed.notes,
        parsed.decisions,
        parsed.muscles,
        parsed.rep_metrics,
    )


def athlete_named(parsed: Parsed, athlete_id: str | None) -> None:
    """A file outside any athlete's folder must name the athlete of each row."""
    if athlete_id is None and not parsed.names_athletes:
        raise UnreadableFile(
            "no athlete folder: put the file in inbox/<athlete_id>/, or name athletes in it"
        )


def fails_whole(sets: int, rejects: pl.DataFrame) -> None:
    """A file whose rows all fail the same rule fails as a whole, with that rule and an example
    (DESIGN.md): not `loaded` with nothing in it, its rows not kept as rejects."""
    if sets == 0 and (reason := one_rule_fails_all(rejects)) is not None:
        raise UnreadableFile(reason)


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
