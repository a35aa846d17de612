"""Loading the night's files in file order, one pass: read each once (its sha256 is of the bytes
parsed), tell new from seen, parse the new ones a batch at a time (in turn, or ahead on a
cluster) and store each batch in one transaction, each file with its own outcome. A file that
changed while it was read is left for the next run."""

from __future__ import annotations

import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from flows.batch_parse import READING_EACH, parse_batch
from flows.config import Config
from flows.discovery import Discovered
from flows.parsing import (
    Deferred,
    ParsedFile,
    file_info,
    read_failure,
    read_found,
    unread_info,
)
from flows.runs import RunSummary
from sources.content import ChangedWhileRead, Content
from warehouse.db import Warehouse, target, writer
from warehouse.ingested import FileInfo, FileOutcome, known_paths, loaded_file_ids
from warehouse.journal import Journal
from warehouse.load_batch import NOT_A_FILES, Entry, store_batch

# Parses a batch of new files, each as it was read, with its athlete: a result per file, in order.
Parse = Callable[[Sequence[tuple[Content, str | None]], Config], list[ParsedFile | str]]


# Stores a batch's files in file order, all or nothing (warehouse.load_batch): an outcome each.
Store = Callable[[Warehouse, Sequence[Entry], str], list[FileOutcome]]


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

    def batch_done(self) -> None:
        """Every file of a batch is told: a log may write their lines now, at once."""


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


# A batch's parse under way: calling it waits for the results of its new files, in order.
Pending = Callable[[], list[ParsedFile | str]]


# Starts the parses of the batches, and hands each batch out in order with its parse (None for
# a batch with no new file).
ParseAhead = Callable[[Iterator[list[Item]], Config], Iterator[tuple[list[Item], Pending | None]]]


def new_items(batch: list[Item]) -> list[Item]:
    return [item for item in batch if item.kind == "new"]


def batched(items: Iterable[Item], files: int, size: int) -> Iterator[list[Item]]:
    """The items in file order, in batches of up to `files` new files and `size` bytes of them.
    A large file (not held in memory) goes alone; so does a second copy of a content in one
    batch, after the first is stored (it is a duplicate only if that one loads)."""
    batch: list[Item] = []
    count = held = 0
    contents: set[str] = set()
    for item in items:
        new = item.kind == "new" and item.info is not None and item.read is not None
        large = new and item.read.data is None  # type: ignore[union-attr]
        copy = new and item.info.file_id in contents  # type: ignore[union-attr]
        bytes_ = item.info.bytes if new and item.info is not None else 0
        if batch and (large or copy or count >= files or (count and held + bytes_ > size)):
            yield batch
            batch, count, held, contents = [], 0, 0, set()
        batch.append(item)
        if new:
            count, held = count + 1, held + bytes_
            contents.add(item.info.file_id)  # type: ignore[union-attr]
        if large:
            yield batch
            batch, count, held, contents = [], 0, 0, set()
    if batch:
        yield batch


def in_turn(parse_step: Parse, read_step: Read, copies: Path) -> ParseAhead:
    """Parse each batch only when the writer asks for it, in this process, from the bytes read
    (a large file, alone in its batch, from a private copy, read and checked then)."""

    def parses(
        batches: Iterator[list[Item]], config: Config
    ) -> Iterator[tuple[list[Item], Pending | None]]:
        for batch in batches:
            new = new_items(batch)
            parse = partial(_parse_read, new, config, parse_step, read_step, copies)
            yield batch, parse if new else None

    return parses


def _parse_read(
    new: list[Item], config: Config, parse_step: Parse, read_step: Read, copies: Path
) -> list[ParsedFile | str]:
    if len(new) > 1 or new[0].read is None or new[0].read.data is not None:
        return parse_step([(item.read, item.found.athlete_id) for item in new], config)  # type: ignore[misc]
    item = new[0]  # a large file, only hashed so far: copied now, and checked
    assert item.info is not None
    try:
        read = read_step(item.found, 0.0, False, copies)
    except ChangedWhileRead as exc:
        return [Deferred(str(exc))]
    try:
        if read.sha256 != item.info.sha256:
            return [Deferred("changed while it was read: its bytes are not those found")]
        return parse_step([(read, item.found.athlete_id)], config)
    finally:
        if read.copy is not None:
            read.copy.unlink(missing_ok=True)


def submit_ahead(
    batches: Iterable[list[Item]], submit: Callable[[list[Item]], Pending], window: int
) -> Iterator[tuple[list[Item], Pending | None]]:
    """Keep up to `window` parses of batches running ahead of the batch being stored, and hand
    every batch out in file order: the single writer keeps the order of a local run, and
    besides the batch being stored at most `window` parsed batches wait in memory, however
    large the inbox."""
    todo = iter(batches)
    ahead: deque[tuple[list[Item], Pending | None]] = deque()
    running = 0

    def fill() -> None:
        nonlocal running
        while running < max(window, 1) and (batch := next(todo, None)) is not None:
            pending = submit(batch) if new_items(batch) else None
            ahead.append((batch, pending))
            running += pending is not None

    fill()
    while ahead:
        batch, pending = ahead.popleft()
        running -= pending is not None
        fill()
        yield batch, pending


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


def store_entries(db: Warehouse, entries: Sequence[Entry], run_id: str) -> list[FileOutcome]:
    """Write a batch's outcomes in one transaction: its files' rows, or their records."""
    with writer(db) as con:
        return store_batch(con, entries, run_id)


def store(
    db: Warehouse, info: FileInfo, parsed: ParsedFile | None, failure: str | None, run_id: str
) -> FileOutcome:
    """Write one file's outcome: its rows when parsed, else its failure."""
    failed = None if parsed is not None else FileOutcome(status="failed", error=failure)
    return store_entries(db, [Entry(info, parsed, failed)], run_id)[0]


def process_files(
    files: list[Discovered],
    config: Config,
    summary: RunSummary,
    *,
    read_step: Read = read_found,
    parse_step: Parse = parse_batch,
    parse_ahead: ParseAhead | None = None,
    store_step: Store = store_entries,
    progress: Progress | None = None,
    journal: Journal | None = None,
) -> None:
    """Read every file once, in file order; parse the new ones batch by batch (with
    `parse_step` in turn, or with `parse_ahead`, say on a cluster) and store each batch in one
    transaction."""
    settings = config.settings
    db = target(settings)
    writer = Writer(db, Known(db), summary, store_step, progress, journal)
    if progress is not None:
        progress.begin(len(files))
    with tempfile.TemporaryDirectory(prefix="repflow-read-") as copies:
        items = read_all(files, writer.known, read_step, settings.settle_s)
        batches = batched(items, settings.batch_files, settings.batch_bytes)
        parses = (parse_ahead or in_turn(parse_step, read_step, Path(copies)))(batches, config)
        for batch, parsing in parses:
            writer.batch(batch, parsing)


# Something to say of a file once its batch is stored: a file passed, or the place of a stored
# one among the batch's entries.
Told = Callable[[], None] | int


@dataclass
class Writer:
    """The single writer of a run: what becomes of each file, in file order, a batch at a time."""

    db: Warehouse
    known: Known
    summary: RunSummary
    store_step: Store
    progress: Progress | None
    journal: Journal | None
    # Athletes with a file left for the next run, and that file: their later files wait too,
    # so that an older export read next run never overwrites a newer one's edits.
    waiting: dict[str | None, str] = field(default_factory=dict)

    def batch(self, items: list[Item], parsing: Pending | None) -> None:
        """A batch: each file counted as seen, left for the next run, or stored; the stored ones
        in one transaction, told to the summary and progress once it is committed."""
        started = time.monotonic()
        results = iter(self.parse(items, parsing) if parsing is not None else [])
        told: list[Told] = []  # what is said of the files, in file order
        entries: list[Entry] = []
        for item in items:
            result = next(results) if parsing is not None and item.kind == "new" else None
            entry = self.decide(item, result, told)
            if entry is not None:
                told.append(len(entries))
                entries.append(entry)
        outcomes = self.write(entries) if entries else []
        for tell in told:
            if isinstance(tell, int):
                self.stored(entries[tell], outcomes[tell], started)
            else:
                tell()
        if self.progress is not None:
            self.progress.batch_done()

    def decide(self, item: Item, result: ParsedFile | str | None, told: list[Told]) -> Entry | None:
        """What becomes of one file: None when it is not stored (seen, or left for the next
        run; said through `told`), else what to store of it."""
        athlete = item.found.athlete_id
        if item.kind in ("new", "duplicate") and athlete in self.waiting:
            self.defer(item.found.relative, athlete, f"waits for {self.waiting[athlete]!r}", told)
            return None
        if item.kind == "seen":
            told.append(partial(self.passed, item.found.relative, None, seen=True))
            return None
        if item.info is None:  # deferred when it was read
            self.defer(item.found.relative, athlete, str(item.problem), told)
            return None
        info = item.info
        # The same content twice in one inbox: the copy after a loaded one is a duplicate.
        if item.kind == "duplicate" or (item.kind == "new" and info.file_id in self.known.loaded):
            return Entry(info, outcome=FileOutcome(status="duplicate"))
        if result is None:  # unreadable
            return Entry(info, outcome=FileOutcome(status="failed", error=str(item.problem)))
        if isinstance(result, Deferred):
            self.defer(info.path, info.athlete_id, result, told)
            return None
        if isinstance(result, str):
            return Entry(info, outcome=FileOutcome(status="failed", error=result))
        self.known.loaded.add(info.file_id)  # as it is once the batch is stored
        return Entry(info, parsed=result)

    def write(self, entries: list[Entry]) -> list[FileOutcome]:
        """The batch in one transaction. When it fails for a file's data, each file alone: one
        bad file never blocks the others. An error that is not a file's fails the run."""
        try:
            return self.store_step(self.db, entries, self.summary.run_id)
        except NOT_A_FILES:
            raise
        except Exception:
            return [self.write_alone(entry) for entry in entries]

    def write_alone(self, entry: Entry) -> FileOutcome:
        try:
            return self.store_step(self.db, [entry], self.summary.run_id)[0]
        except NOT_A_FILES:
            raise
        except Exception as exc:
            self.known.loaded.discard(entry.info.file_id)
            why = f"could not be stored ({type(exc).__name__}: {exc})"
            failed = Entry(entry.info, outcome=FileOutcome(status="failed", error=why))
            return self.store_step(self.db, [failed], self.summary.run_id)[0]

    def stored(self, entry: Entry, outcome: FileOutcome, started: float) -> None:
        if isinstance(entry.parsed, ParsedFile):
            outcome = replace(outcome, **asdict(entry.parsed.notes))
        self.summary.files.append((entry.info, outcome))
        if self.progress is not None:
            self.progress.file_done(entry.info, outcome, time.monotonic() - started)

    def parse(self, items: list[Item], parsing: Pending) -> list[ParsedFile | str]:
        new = new_items(items)
        if self.journal is not None:  # so that a run killed in this parse names its files
            self.journal.write(
                "parse",
                run_id=self.summary.run_id,
                path=new[0].found.relative,
                files=len(new),
                bytes=sum(item.info.bytes for item in new if item.info is not None),
            )
        told = None
        if self.progress is not None:  # a large file, read in parts, says how far it is
            told = [partial(self.progress.reading, item.info) for item in new if item.info]
        token = READING_EACH.set(told)
        try:
            return parsing()
        finally:
            READING_EACH.reset(token)

    def defer(self, path: str, athlete: str | None, why: str, told: list[Told]) -> None:
        self.waiting.setdefault(athlete, path)
        told.append(partial(self.passed, path, why))

    def passed(self, path: str, why: str | None, seen: bool = False) -> None:
        if seen:
            self.summary.seen_before += 1
        elif why is not None:
            self.summary.deferred.append((path, why))
        if self.progress is not None:
            self.progress.passed(path, why)
