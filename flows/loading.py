"""Loading the night's files in file order: fingerprint each, tell new from seen, parse the
new ones (in turn, or ahead on a cluster) and store each with its own outcome."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, replace
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Protocol

import duckdb

from flows.config import Config
from flows.discovery import Discovered
from flows.parsing import READING, ParsedFile, fingerprint, parse, read_failure
from flows.runs import RunSummary
from warehouse.db import Warehouse, target, writer
from warehouse.load import FileInfo, FileOutcome, known_paths, load_file, loaded_file_ids
from warehouse.load import record_outcome as record

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
                result = read_failure(exc)
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
