"""Loading the night's files in file order, one pass: read each once (its sha256 is of the bytes
parsed), tell new from seen, parse the new ones (in turn, or ahead on a cluster) and store
each with its own outcome. A file that changed while it was read is left for the next run."""

from __future__ import annotations

import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from flows.config import Config
from flows.discovery import Discovered
from flows.parsing import (
    READING,
    Deferred,
    ParsedFile,
    file_info,
    parse,
    read_failure,
    read_found,
    unread_info,
)
from flows.runs import RunSummary
from sources.content import ChangedWhileRead, Content
from warehouse.db import Warehouse, target, writer
from warehouse.journal import Journal
from warehouse.load import FileInfo, FileOutcome, known_paths, load_file, loaded_file_ids
from warehouse.load import record_outcome as record

Parse = Callable[[Content, str | None, Config], ParsedFile | str]


Store = Callable[[Warehouse, FileInfo, ParsedFile | None, str | None, str], FileOutcome]


# Reads one discovered file (parsing.read_found): its settle time, whether to hold its bytes,
# and a folder for a private copy of a large one.
Read = Callable[[Discovered, float, bool, Path | None], Content]


class Progress(Protocol):
    """Told about each file as a run goes; the CLI renders it (flows/progress.py)."""

    def begin(self, files: int) -> None:
        """`files` were found, and are about to be read."""

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        """A large file, read in batches, has been read up to about `done_bytes` of its
        `info.bytes` (its header aside)."""

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        """One file is stored (loaded, duplicate or failed), `elapsed_s` after it started."""

    def passed(self, path: str, why: str | None) -> None:
        """A file not stored by this run: loaded by an earlier one (`why` None), or left for
        the next run, and why."""


Kind = Literal["new", "duplicate", "seen", "deferred", "unreadable"]


@dataclass(frozen=True)
class Item:
    """A discovered file, read: its record, its bytes when it is new, and what it is to this
    run. A deferred file has no record, only why (`problem`); an unreadable one its failure."""

    found: Discovered
    info: FileInfo | None
    read: Content | None
    kind: Kind
    problem: str | None = None


# A parse under way: calling it waits for the result.
Pending = Callable[[], ParsedFile | str]


# Starts the parses of the new files, and hands each item out in the order of `items` with its
# parse (None for a file that is not new).
ParseAhead = Callable[[Iterator[Item], Config], Iterator[tuple[Item, Pending | None]]]


def in_turn(parse_step: Parse, read_step: Read, copies: Path) -> ParseAhead:
    """Parse each new file only when the writer asks for it: one file at a time, in this
    process, from the bytes read (a large file from a private copy, read and checked then)."""

    def parses(items: Iterator[Item], config: Config) -> Iterator[tuple[Item, Pending | None]]:
        for item in items:
            if item.kind != "new":
                yield item, None
            else:
                yield item, partial(_parse_read, item, config, parse_step, read_step, copies)

    return parses


def _parse_read(
    item: Item, config: Config, parse_step: Parse, read_step: Read, copies: Path
) -> ParsedFile | str:
    assert item.read is not None and item.info is not None
    read = item.read
    if read.data is None:  # a large file, only hashed so far: copied now, and checked
        try:
            read = read_step(item.found, 0.0, False, copies)
        except ChangedWhileRead as exc:
            return Deferred(str(exc))
        if read.sha256 != item.info.sha256:
            return Deferred("changed while it was read: its bytes are not those found")
    try:
        return parse_step(read, item.found.athlete_id, config)
    finally:
        if read.copy is not None:
            read.copy.unlink(missing_ok=True)


def submit_ahead(
    items: Iterable[Item], submit: Callable[[Item], Pending], window: int
) -> Iterator[tuple[Item, Pending | None]]:
    """Keep up to `window` parses of new files running ahead of the file being stored, and hand
    every item out in file order: the single writer keeps the order of a local run, and besides
    the file being stored at most `window` parsed files wait in memory, however large the
    inbox."""
    todo = iter(items)
    ahead: deque[tuple[Item, Pending | None]] = deque()
    running = 0

    def fill() -> None:
        nonlocal running
        while running < max(window, 1) and (item := next(todo, None)) is not None:
            pending = submit(item) if item.kind == "new" else None
            ahead.append((item, pending))
            running += pending is not None

    fill()
    while ahead:
        item, pending = ahead.popleft()
        running -= pending is not None
        fill()
        yield item, pending


class Known:
    """What the warehouse holds of files: contents loaded, and (content, path) pairs recorded,
    read once at the start and kept up to date as this run loads."""

    def __init__(self, db: Warehouse) -> None:
        with writer(db) as con:
            self.loaded = loaded_file_ids(con)
            self.recorded = known_paths(con)

    def kind(self, info: FileInfo) -> Kind:
        """`new`, `duplicate` (content loaded from another path) or `seen`."""
        if info.file_id not in self.loaded:
            return "new"
        return "seen" if (info.file_id, info.path) in self.recorded else "duplicate"


def read_all(
    files: list[Discovered], known: Known, read_step: Read, settle_s: float
) -> Iterator[Item]:
    """Each file read once, in order, and told apart. Only a new file keeps its bytes: a small
    one held, a large one hashed (and copied when it is parsed)."""
    for found in files:
        try:
            read = read_step(found, settle_s, True, None)
        except ChangedWhileRead as exc:
            yield Item(found, None, None, "deferred", str(exc))
            continue
        except OSError as exc:  # unreadable (permissions), gone, still failing after retries
            yield Item(found, unread_info(found), None, "unreadable", read_failure(exc))
            continue
        info = file_info(read, found.relative, found.athlete_id)
        kind = known.kind(info)
        yield Item(found, info, read if kind == "new" else None, kind)


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


def process_files(
    files: list[Discovered],
    config: Config,
    summary: RunSummary,
    *,
    read_step: Read = read_found,
    parse_step: Parse = parse,
    parse_ahead: ParseAhead | None = None,
    store_step: Store = store,
    progress: Progress | None = None,
    journal: Journal | None = None,
) -> None:
    """Read every file once, in file order; parse the new ones (with `parse_step` in turn, or
    with `parse_ahead`, say on a cluster) and store them one at a time."""
    db = target(config.settings)
    writer = Writer(db, Known(db), summary, store_step, progress, journal)
    if progress is not None:
        progress.begin(len(files))
    with tempfile.TemporaryDirectory(prefix="repflow-read-") as copies:
        items = read_all(files, writer.known, read_step, config.settings.settle_s)
        parses = (parse_ahead or in_turn(parse_step, read_step, Path(copies)))(items, config)
        for item, parsing in parses:
            writer.one(item, parsing)


@dataclass
class Writer:
    """The single writer of a run: what becomes of each file, in file order."""

    db: Warehouse
    known: Known
    summary: RunSummary
    store_step: Store
    progress: Progress | None
    journal: Journal | None
    # Athletes with a file left for the next run, and that file: their later files wait too,
    # so that an older export read next run never overwrites a newer one's edits.
    waiting: dict[str | None, str] = field(default_factory=dict)

    def one(self, item: Item, parsing: Pending | None) -> None:
        """One file: counted as seen, left for the next run, or stored."""
        athlete = item.found.athlete_id
        if item.kind in ("new", "duplicate") and athlete in self.waiting:
            self.defer(item.found.relative, athlete, f"waits for {self.waiting[athlete]!r}")
        elif item.kind == "seen":
            self.summary.seen_before += 1
            self.passed(item.found.relative, None)
        elif item.info is None:  # deferred when it was read
            self.defer(item.found.relative, athlete, str(item.problem))
        else:
            self.store(item, item.info, parsing)

    def store(self, item: Item, info: FileInfo, parsing: Pending | None) -> None:
        started = time.monotonic()
        # The same content twice in one inbox: the copy after a loaded one is a duplicate.
        if item.kind == "duplicate" or (parsing is not None and info.file_id in self.known.loaded):
            outcome = record_duplicate(self.db, info, self.summary.run_id)
        else:
            result = str(item.problem) if parsing is None else self.parse(info, parsing)
            if isinstance(result, Deferred):
                self.defer(info.path, info.athlete_id, result)
                return
            parsed, failure = (None, result) if isinstance(result, str) else (result, None)
            outcome = self.store_step(self.db, info, parsed, failure, self.summary.run_id)
            if parsed is not None:
                outcome = replace(outcome, **asdict(parsed.notes))
            if outcome.status == "loaded":
                self.known.loaded.add(info.file_id)
        self.summary.files.append((info, outcome))
        if self.progress is not None:
            self.progress.file_done(info, outcome, time.monotonic() - started)

    def parse(self, info: FileInfo, parsing: Pending) -> ParsedFile | str:
        if self.journal is not None:  # so that a run killed in this parse names the file
            self.journal.write(
                "parse", run_id=self.summary.run_id, path=info.path, bytes=info.bytes
            )
        token = READING.set(None if self.progress is None else partial(self.progress.reading, info))
        try:
            return parsing()
        finally:
            READING.reset(token)

    def defer(self, path: str, athlete: str | None, why: str) -> None:
        self.waiting.setdefault(athlete, path)
        self.summary.deferred.append((path, why))
        self.passed(path, why)

    def passed(self, path: str, why: str | None) -> None:
        if self.progress is not None:
            self.progress.passed(path, why)
