"""The pipeline's steps as plain functions: discover, fingerprint, parse, load, flag, publish.

The Prefect flow (flows/nightly.py) and `repflow ingest` call exactly these; nothing here
imports Prefect, so every decision is testable without it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cache, partial
from importlib import resources
from itertools import chain, islice
from pathlib import Path
from typing import Protocol, TypeVar, cast
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pyarrow as pa

import sources
from flows.config import Config
from flows.reexport import StoredRows, read_known, row_seed, stored_hashes
from rules import evaluate_relation
from schemas.row_hash import with_row_hashes
from schemas.set_row import RowContext, is_athlete_id
from schemas.validate import validate
from sources import junk
from sources.base import Notes
from sources.csv_text import UnreadableFile
from warehouse import catalog
from warehouse.db import Warehouse, reader, target, writer
from warehouse.flags import rule_sets, store_flags
from warehouse.lake import Lake, lake_writers, redact
from warehouse.load import FileInfo, FileOutcome, known_paths, load_file, loaded_file_ids
from warehouse.load import record_outcome as record
from warehouse.lock import run_lock
from warehouse.publish import publish
from warehouse.spool import Spool
from warehouse.stored_lines import stored_lines

HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class Discovered:
    path: Path
    relative: str
    athlete_id: str | None


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

    @classmethod
    def of(cls, parsed: ParsedFile) -> ArrowFile:
        # A spool is a local folder another host cannot read: its parts travel whole.
        sets, rejects = parsed.tables()
        groups = parsed.sets.groups().to_arrow() if isinstance(parsed.sets, Spool) else None
        machines = None if parsed.machines is None else parsed.machines.to_arrow()
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
        )

    def frames(self) -> ParsedFile:
        machines = None if self.machines is None else _frame(self.machines)
        sets, rejects = _frame(self.sets), _frame(self.rejects)
        read = (self.skipped, machines, self.known, self.reader_version, self.notes)
        if self.groups is None:
            return ParsedFile(self.format, sets, rejects, *read)
        spool = Spool()
        spool.add(sets, rejects, _frame(self.groups))
        return ParsedFile(self.format, spool, spool, *read)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # a Table always converts to a frame
    return frame


@dataclass
class RunSummary:
    run_id: str
    command: str
    started_at: datetime
    as_of: date | None = None
    files: list[tuple[FileInfo, FileOutcome]] = field(default_factory=list)
    seen_before: int = 0
    skipped_paths: list[str] = field(default_factory=list)  # `Ignored` ones are junk
    flags: pl.DataFrame | None = None
    rules_ran: bool = False
    published: bool = False
    sets_watermark: str | None = None  # the stored sets, when the rules were due (rules_due)
    error: str | None = None  # why the run failed: its status is then `failed`
    lake_snapshot: int | None = None  # on a DuckLake: the snapshot the run ended at

    @property
    def ignored(self) -> list[str]:
        """Junk in the inbox, and junk members of the bundles loaded (`'a7/x.zip: .DS_Store'`)."""
        members = [
            repr(f"{info.path}: {name}") for info, outcome in self.files for name in outcome.ignored
        ]
        return [path for path in self.skipped_paths if isinstance(path, Ignored)] + members

    @property
    def unknown(self) -> list[str]:
        """Members of the bundles loaded that are in no known format, with why."""
        return [f"{info.path}: {note}" for info, outcome in self.files for note in outcome.unknown]

    def count(self, status: str) -> int:
        return sum(1 for _, outcome in self.files if outcome.status == status)

    def total(self, name: str) -> int:
        return sum(int(getattr(outcome, name)) for _, outcome in self.files)

    @property
    def changed(self) -> bool:
        """Whether the warehouse changed: a file recorded, or flags written."""
        return self.rules_ran or bool(self.files)

    @property
    def status(self) -> str:
        if self.error is not None:
            return "failed"
        trouble = self.count("failed") or self.refused
        return "completed_with_failures" if trouble else "succeeded"

    @property
    def refused(self) -> bool:
        """Whether a path named on the command line was not a file to read."""
        return any(isinstance(path, Refused) for path in self.skipped_paths)

    @property
    def exit_code(self) -> int:
        return 1 if self.error is not None or self.count("failed") or self.refused else 0


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


class Ignored(str):
    """A skipped path that is junk (sources.junk): listed apart, as ignored, not as a problem."""


def discover(inbox: Path) -> tuple[list[Discovered], list[str]]:
    """Files in `inbox/<athlete_id>/...` (any depth) and at its root, in a fixed order.

    Symbolic links are never followed; FIFOs, sockets and devices are skipped; so is a folder
    whose name is not a valid athlete_id. Each skip is reported. Junk (`.DS_Store`, a
    `.stversions` folder, `*.part`) is ignored, and listed as `Ignored`.
    """
    if not inbox.is_dir():
        raise UnreadableFile(f"inbox {inbox} is not a folder")
    found: list[Discovered] = []
    skipped: list[str] = []
    for entry in sorted(inbox.iterdir()):
        mode = entry.lstat().st_mode
        if junk.ignored(entry.name):
            skipped.append(Ignored(repr(entry.name)))
        elif stat.S_ISLNK(mode):
            skipped.append(f"{entry.name!r}: a symbolic link, not followed")
        elif stat.S_ISDIR(mode):
            if is_athlete_id(entry.name):
                found += _walk(inbox, entry, entry.name, skipped)
            else:
                skipped.append(f"{entry.name!r}: not a valid athlete_id folder name")
        elif stat.S_ISREG(mode):
            found.append(Discovered(entry, entry.name, None))
        else:
            skipped.append(f"{entry.name!r}: not a regular file")
    found.sort(key=lambda d: (d.athlete_id or "", d.relative))
    return found, skipped


def _walk(inbox: Path, folder: Path, athlete: str, skipped: list[str]) -> list[Discovered]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [d for d in dirs if junk.ignored(d)]:
            skipped.append(Ignored(repr(str(Path(root, name).relative_to(inbox)))))
            dirs.remove(name)  # nothing below a junk folder is read
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if Path(root, d).is_symlink()]:
            path = Path(root, name)
            relative = str(path.relative_to(inbox))
            mode = path.lstat().st_mode
            if junk.ignored(name):
                skipped.append(Ignored(repr(relative)))
            elif stat.S_ISLNK(mode):
                skipped.append(f"{relative!r}: a symbolic link, not followed")
            elif stat.S_ISREG(mode):
                found.append(Discovered(path, relative, athlete))
            else:
                skipped.append(f"{relative!r}: not a regular file")
    return found


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
        return _read_failure(exc)


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


def classify(con: duckdb.DuckDBPyConnection, infos: list[FileInfo]) -> list[str]:
    """For each file: `new`, `duplicate` (content loaded from another path) or `seen`."""
    loaded = loaded_file_ids(con)
    recorded = known_paths(con)
    return [
        ("seen" if (i.file_id, i.path) in recorded else "duplicate")
        if i.file_id in loaded
        else "new"
        for i in infos
    ]


def store(
    db: Warehouse, info: FileInfo, parsed: ParsedFile | None, failure: str | None, run_id: str
) -> FileOutcome:
    """Write one file's outcome: its rows when parsed, else its failure."""
    with writer(db) as con:
        if parsed is None:
            outcome = FileOutcome(status="failed", error=failure)
            record(con, info, outcome, run_id)
            return outcome
        return load_file(con, info, parsed, run_id)


def record_duplicate(db: Warehouse, info: FileInfo, run_id: str) -> FileOutcome:
    outcome = FileOutcome(status="duplicate")
    with writer(db) as con:
        record(con, info, outcome, run_id)
    return outcome


def prepare(db: Warehouse, config: Config, timeout_s: float) -> None:
    """Migrate the warehouse and mirror the exercise catalog before any file loads."""
    with writer(db, timeout_s=timeout_s) as con:
        catalog.sync_exercises(con, config.exercises, config.programs)


# Every change to `sets` stamps the rows it writes with its run (an edit, a correction), or
# changes their number (a set removed); a re-export may move a set to another session. So
# these three tell whether the sets the rules read have changed since the flags were computed.
SETS_WATERMARK = "SELECT count(*), max(run_id), bit_xor(hash(run_id, session_id)) FROM sets"


def sets_watermark(db: Warehouse) -> str:
    with writer(db) as con:
        row = con.execute(SETS_WATERMARK).fetchone()
    return ":".join(str(value) for value in (row or ()))


@cache
def rules_fingerprint() -> str:
    """The code that turns sets into flags: the rules, and the SQL that gives them the sets."""
    digest = hashlib.sha256()
    for package, names in (("rules", None), ("warehouse", ("flags.py",))):
        for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".py") and (names is None or entry.name in names):
                digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def rules_due(db: Warehouse, summary: RunSummary, config: Config) -> bool:
    """Whether the current flags are stale: the stored sets, the as-of date, the config or the
    rules' code differ from what they were computed from (DESIGN.md: flags are never stale).
    Decided from what is stored, so an `ingest` between two runs, a run killed before its
    rules and an upgrade all count. Keeps the watermark for the run's record."""
    summary.sets_watermark = sets_watermark(db)
    with writer(db) as con:
        last = con.execute(
            "SELECT as_of, config_sha256, sets_watermark, rules_sha256 FROM runs "
            "WHERE flags_emitted IS NOT NULL ORDER BY finished_at DESC LIMIT 1"
        ).fetchone()
    now = (summary.as_of, config.sha256, summary.sets_watermark, rules_fingerprint())
    return last is None or tuple(last) != now


def flag(db: Warehouse, config: Config, as_of: date, run_id: str) -> pl.DataFrame:
    """Evaluate the progression rules over every stored set and store the flags."""
    settings = config.settings
    with writer(db) as con:
        catalog.sync_athletes(con, settings.row_context())
        flags = evaluate_relation(
            con,
            rule_sets(con),
            config.programs,
            as_of,
            settings.row_context().athlete_timezones,
            settings.timezone,
        )
        store_flags(con, flags, run_id, as_of)
    return flags


def finish(db: Warehouse, summary: RunSummary, config: Config) -> None:
    """Write the run's row in `runs`, or mark it failed when it was written already (the
    publish after it failed)."""
    flags = summary.flags.height if summary.flags is not None and summary.rules_ran else None
    with writer(db) as con:
        con.execute("DELETE FROM runs WHERE run_id = ?", [summary.run_id])
        con.execute(
            "INSERT INTO runs (run_id, command, started_at, finished_at, status, as_of, "
            "files_seen, files_loaded, files_duplicate, files_failed, rows_loaded, "
            "rows_revised, rows_rejected, flags_emitted, config_sha256, changed, "
            "sets_watermark, rules_sha256, error) "
            "VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                summary.run_id,
                summary.command,
                summary.started_at,
                summary.status,
                summary.as_of if summary.rules_ran else None,
                len(summary.files) + summary.seen_before,
                summary.count("loaded"),
                summary.count("duplicate") + summary.seen_before,
                summary.count("failed"),
                summary.total("loaded"),
                summary.total("revised"),
                summary.total("rejected"),
                flags,
                config.sha256,
                summary.changed,
                summary.sets_watermark if summary.rules_ran else None,
                rules_fingerprint() if summary.rules_ran else None,
                summary.error,
            ],
        )


def failed(db: Warehouse, summary: RunSummary, config: Config, exc: BaseException) -> None:
    """Record the run as failed, with why (a password in a DSN redacted), before it ends."""
    summary.error = redact(f"{type(exc).__name__}: {exc}")
    # The disk that failed the run may refuse its record too: the original error goes on.
    with suppress(Exception):
        finish(db, summary, config)


def now() -> datetime:
    return datetime.now(UTC)


Parse = Callable[[Path, str | None, Config], ParsedFile | str]
Store = Callable[[Warehouse, FileInfo, ParsedFile | None, str | None, str], FileOutcome]
Fingerprint = Callable[[Path, str, str | None], FileInfo]


class Progress(Protocol):
    """Told about each file as a run goes; the CLI renders it (flows/progress.py)."""

    def begin(self, files: int, seen_before: int) -> None:
        """`files` are about to be read or recorded; `seen_before` were loaded by earlier runs."""

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        """A large file, read in batches, has been read up to about `done_bytes` of its
        `info.bytes` (its header aside)."""

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        """One file is stored (loaded, duplicate or failed), `elapsed_s` after it started."""


# A parse under way: calling it waits for the result, and raises the parse's OSError.
Pending = Callable[[], ParsedFile | str]
# Starts the parses of the new files, and hands them out in the order of `files`.
ParseAhead = Callable[[list[Discovered], Config], Iterator[Pending]]


def in_turn(parse_step: Parse) -> ParseAhead:
    """Parse each file only when the writer asks for it: one file at a time, in this process."""

    def parses(files: list[Discovered], config: Config) -> Iterator[Pending]:
        for found in files:
            yield partial(parse_step, found.path, found.athlete_id, config)

    return parses


def submit_ahead(
    files: Iterable[Discovered], submit: Callable[[Discovered], Pending], window: int
) -> Iterator[Pending]:
    """Keep up to `window` parses running ahead of the file being stored, and hand them out in
    file order: the single writer keeps the order of a local run, and besides the file being
    stored at most `window` parsed files wait in memory, however large the inbox."""
    todo = iter(files)
    running = deque(submit(found) for found in islice(todo, max(window, 1)))
    while running:
        current = running.popleft()
        following = next(todo, None)
        if following is not None:
            running.append(submit(following))
        yield current


def _read_failure(exc: Exception) -> str:
    if isinstance(exc, UnreadableFile):
        return str(exc)
    if isinstance(exc, OSError):
        return f"could not read the file: {exc.strerror or exc}"
    # A reader bug must not stop the night: the file fails, with what went wrong.
    return f"internal error while reading ({type(exc).__name__}: {exc})"


def process_files(
    files: list[Discovered],
    config: Config,
    summary: RunSummary,
    *,
    fingerprint_step: Fingerprint = fingerprint,
    parse_step: Parse = parse,
    parse_ahead: ParseAhead | None = None,
    store_step: Store = store,
    progress: Progress | None = None,
) -> None:
    """Fingerprint every file, then parse the new ones (with `parse_step` in turn, or with
    `parse_ahead`, say on a cluster) and store them one at a time, in file order."""
    db = target(config.settings)
    infos: list[tuple[Discovered, FileInfo]] = []
    for found in files:
        try:
            infos.append((found, fingerprint_step(found.path, found.relative, found.athlete_id)))
        except OSError as exc:
            summary.skipped_paths.append(f"{found.relative!r}: {exc.strerror or exc}")
    with writer(db) as con:
        kinds = classify(con, [info for _, info in infos])
    new = [found for (found, _), kind in zip(infos, kinds, strict=True) if kind == "new"]
    parses = (parse_ahead or in_turn(parse_step))(new, config)
    loaded_now: set[str] = set()
    if progress is not None:
        progress.begin(kinds.count("new") + kinds.count("duplicate"), kinds.count("seen"))
    for (_, info), kind in zip(infos, kinds, strict=True):
        if kind == "seen":
            summary.seen_before += 1
            continue
        started = time.monotonic()
        parsing = next(parses) if kind == "new" else None
        # The same content twice in one inbox: the copy after a loaded one is a duplicate.
        if parsing is None or info.file_id in loaded_now:
            outcome = record_duplicate(db, info, summary.run_id)
        else:
            token = READING.set(None if progress is None else partial(progress.reading, info))
            try:
                result = parsing()
            except OSError as exc:  # still failing after the retries
                result = _read_failure(exc)
            finally:
                READING.reset(token)
            parsed, failure = (None, result) if isinstance(result, str) else (result, None)
            outcome = store_step(db, info, parsed, failure, summary.run_id)
            if parsed is not None:
                outcome = replace(outcome, **asdict(parsed.notes))
            if outcome.status == "loaded":
                loaded_now.add(info.file_id)
        summary.files.append((info, outcome))
        if progress is not None:
            progress.file_done(info, outcome, time.monotonic() - started)


@dataclass(frozen=True)
class Steps:
    """The steps a run calls; the Prefect flow swaps in task-wrapped versions."""

    fingerprint: Fingerprint = fingerprint
    parse: Parse = parse
    parse_ahead: ParseAhead | None = None  # None: `parse` each file in turn
    store: Store = store
    flag: Callable[[Warehouse, Config, date, str], pl.DataFrame] = flag
    publish: Callable[[Warehouse, Path, float], int | None] = publish


def execute(
    config: Config,
    files: list[Discovered],
    command: str,
    as_of: date | None,
    steps: Steps = Steps(),
    progress: Progress | None = None,
    skipped: list[str] | None = None,
) -> RunSummary:
    """One run: load `files`, evaluate the rules when `as_of` is given and they are due,
    record the run, and publish the analyst snapshot. A run that fails on the way (an error in
    the rules, a full disk) records `failed` with the error before the error goes on."""
    settings = config.settings
    where = target(settings)
    summary = RunSummary(new_run_id(now()), command, now(), as_of=as_of)
    summary.skipped_paths += skipped or []
    with run_lock(where, settings.lock_timeout_s), lake_writers():
        prepare(where, config, settings.lock_timeout_s)
        with recorded(where, summary, config):
            process_files(
                files,
                config,
                summary,
                fingerprint_step=steps.fingerprint,
                parse_step=steps.parse,
                parse_ahead=steps.parse_ahead,
                store_step=steps.store,
                progress=progress,
            )
            if as_of is not None and rules_due(where, summary, config):
                summary.flags = steps.flag(where, config, as_of, summary.run_id)
                summary.rules_ran = True
            finish(where, summary, config)
            if publish_due(where, summary, settings.analytics_path):
                summary.lake_snapshot = steps.publish(
                    where, settings.analytics_path, settings.lock_timeout_s
                )
                summary.published = True
    return summary


@contextmanager
def recorded(where: Warehouse, summary: RunSummary, config: Config) -> Iterator[None]:
    """Whatever fails inside records the run as failed, then goes on (a Ctrl-C too). After an
    error the snapshot is published, so that `repflow status` shows the failed run."""
    try:
        yield
    except BaseException as exc:
        failed(where, summary, config, exc)
        if isinstance(exc, Exception) and not isinstance(where, Lake):
            settings = config.settings
            with suppress(Exception):  # a full disk may refuse the copy: the error goes on
                publish(where, settings.analytics_path, settings.lock_timeout_s)
        raise


def publish_due(where: Warehouse, summary: RunSummary, snapshot: Path) -> bool:
    """A lake reports its snapshot after a change; a file is copied when its snapshot lags."""
    if isinstance(where, Lake):
        return summary.changed
    return snapshot_behind(where, snapshot)


# The last change, and the schema: a snapshot published before an upgrade's migrations lacks the
# new views, even when no run has changed anything since.
LAST_CHANGE = (
    "SELECT (SELECT arg_max(run_id, finished_at) FROM runs WHERE changed), "
    "(SELECT max(version) FROM schema_migrations)"
)


def snapshot_behind(db: Path, snapshot: Path) -> bool:
    """Whether the snapshot misses a change or a migration: also true after a run that died
    between recording its changes and publishing them."""
    if not snapshot.exists():
        return True
    with writer(db) as con:
        working = con.execute(LAST_CHANGE).fetchone()
    try:
        with reader(snapshot) as con:
            published = con.execute(LAST_CHANGE).fetchone()
    except duckdb.Error:
        return True  # unreadable or from an older schema: replace it
    return working != published


def stale_files(db: Warehouse) -> list[FileInfo]:
    """Loaded files that an older version of their format's reader read, oldest first."""
    with writer(db) as con:
        rows = con.execute(
            "SELECT file_id, path, sha256, bytes, athlete_id, format, "
            "coalesce(reader_version, 1) FROM ingested_files WHERE status = 'loaded' "
            "ORDER BY ingested_at, path"
        ).fetchall()
    return [FileInfo(*row[:5]) for row in rows if row[6] < sources.reader_version(str(row[5]))]


def stored_copy(inbox: Path, info: FileInfo) -> Path | str:
    """Where a loaded file still is, with the bytes it had; else why it cannot be re-read."""
    path = Path(info.path) if Path(info.path).is_absolute() else inbox / info.path
    if not path.is_file():
        return f"not at {path} any more: it cannot be re-read"
    if fingerprint(path, info.path, info.athlete_id).sha256 != info.sha256:
        return "its content changed since it loaded: the new content loads as a new file"
    return path


def reload(config: Config, as_of: date, progress: Progress | None = None) -> RunSummary:
    """Read again, with today's readers, the stored files an older reader read (`repflow
    reload`): what a fixed reader changes is a correction (set_corrections), not an edit. The
    rules run again when they are due. A file no longer in the inbox keeps its sets."""
    settings = config.settings
    where = target(settings)
    summary = RunSummary(new_run_id(now()), "reload", now(), as_of=as_of)
    with run_lock(where, settings.lock_timeout_s), lake_writers():
        prepare(where, config, settings.lock_timeout_s)
        with recorded(where, summary, config):
            _reread(where, config, summary, progress)
    return summary


def _reread(
    where: Warehouse, config: Config, summary: RunSummary, progress: Progress | None
) -> None:
    settings = config.settings
    stale = stale_files(where)
    if progress is not None:
        progress.begin(len(stale), 0)
    for info in stale:
        started = time.monotonic()
        path = stored_copy(settings.inbox, info)
        result = (
            path
            if isinstance(path, str)
            else parse_with(path, info.athlete_id, settings.row_context())
        )
        if isinstance(result, str):
            summary.skipped_paths.append(f"{info.path!r}: not re-read: {result}")
            continue
        with writer(where) as con:
            outcome = load_file(con, info, result, summary.run_id, reread=True)
        summary.files.append((info, outcome))
        if progress is not None:
            progress.file_done(info, outcome, time.monotonic() - started)
    if summary.as_of is not None and rules_due(where, summary, config):
        summary.flags = flag(where, config, summary.as_of, summary.run_id)
        summary.rules_ran = True
    finish(where, summary, config)
    if publish_due(where, summary, settings.analytics_path):
        summary.lake_snapshot = publish(where, settings.analytics_path, settings.lock_timeout_s)
        summary.published = True


def inbox_files(config: Config) -> tuple[list[Discovered], list[str]]:
    return discover(config.settings.inbox)


class UsageError(ValueError):
    """The command line names something that is not there: bad usage, nothing loads."""


class Refused(str):
    """A path named on the command line that is not a file to read (a FIFO, a socket, a
    device): never opened, so never waited on; the run fails for it (exit 1)."""


def named_files(
    paths: list[Path], athlete: str | None, config: Config
) -> tuple[list[Discovered], list[str]]:
    """What `repflow ingest` reads: each file named, and each folder read like an inbox (its
    athlete folders; with `--athlete`, every file in it). A file under the inbox keeps its
    inbox athlete and path, so replaying it updates the same record the nightly run wrote.
    Also gives what was skipped, ignored or refused, as `discover` does.

    A path that does not exist is a UsageError, before anything is read."""
    missing = [str(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    inbox = config.settings.inbox.resolve()
    found: list[Discovered] = []
    skipped: list[str] = []
    for path in paths:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            found += _folder(path, athlete, inbox, skipped)
        elif stat.S_ISREG(mode):
            found.append(_named(path, path, athlete, inbox))
        else:
            reason = "not a regular file (a FIFO, socket or device): not read"
            skipped.append(Refused(f"{str(path)!r}: {reason}"))
    return found, skipped


def _named(path: Path, shown: Path, athlete: str | None, inbox: Path) -> Discovered:
    resolved = path.resolve()
    if resolved.is_relative_to(inbox) and athlete is None:
        relative = resolved.relative_to(inbox)
        owner = relative.parts[0] if len(relative.parts) > 1 else None
        return Discovered(path, str(relative), owner)
    return Discovered(path, str(shown), athlete)


def _folder(folder: Path, athlete: str | None, inbox: Path, skipped: list[str]) -> list[Discovered]:
    """A folder named on the command line, read as the inbox is (junk ignored, links and
    FIFOs skipped): the inbox itself, an athlete's folder in it, any folder of athlete
    folders, or with `athlete` any folder of that athlete's files."""
    if athlete is None and folder.resolve() == inbox:
        found, skips = discover(inbox)
        skipped += skips
        return found
    if athlete is None and folder.resolve().is_relative_to(inbox):
        owner = folder.resolve().relative_to(inbox).parts[0]
        if not is_athlete_id(owner):
            raise UsageError(f"{folder}: not inside an athlete's folder of the inbox")
        return _walk(inbox, folder.resolve(), owner, skipped)
    if athlete is None:
        found, skips = discover(folder)
        skipped += skips
    else:
        found = _walk(folder, folder, athlete, skipped)
    # Outside the inbox a file is recorded under the path it was named by.
    return [Discovered(d.path, str(d.path), d.athlete_id) for d in found]
