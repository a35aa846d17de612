"""A run as a whole: load the files found, evaluate the rules when due, record the run and
publish the analyst snapshot; and `repflow reload`. The steps live in flows.discovery,
flows.parsing, flows.loading and flows.runs.

The Prefect flow (flows/nightly.py) and `repflow ingest` call exactly these; nothing here
imports Prefect, so every decision is testable without it.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

import sources
from flows.batch_parse import parse_batch
from flows.config import Config
from flows.discovery import Discovered
from flows.loading import Parse, ParseAhead, Progress, Read, Store, process_files, store_entries
from flows.parsing import hints_for, parse_with, read_found
from flows.runs import (
    RunSummary,
    failure,
    finish,
    flag,
    journaled,
    judge,
    new_run_id,
    now,
    prepare,
    publish_due,
    recorded,
    rules_due,
)
from sources import content
from sources.content import ChangedWhileRead, Content
from warehouse.db import Warehouse, WarehouseLocked, target, writer
from warehouse.journal import Journal, interrupted, journal_path, tail
from warehouse.lake import lake_writers
from warehouse.load import FileInfo, load_file
from warehouse.lock import run_lock
from warehouse.publish import publish


@dataclass(frozen=True)
class Steps:
    """The steps a run calls; the Prefect flow swaps in task-wrapped versions."""

    read: Read = read_found
    parse: Parse = parse_batch
    parse_ahead: ParseAhead | None = None  # None: `parse` each batch in turn
    store: Store = store_entries
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
    the rules, a full disk) records `failed` with the error before the error goes on, and
    publishes nothing; the runs journal keeps every run, also one that could not write."""
    summary = RunSummary(new_run_id(now()), command, now(), as_of=as_of)
    summary.skipped_paths += skipped or []
    with started(config, summary) as (where, journal):
        process_files(
            files,
            config,
            summary,
            read_step=steps.read,
            parse_step=steps.parse,
            parse_ahead=steps.parse_ahead,
            store_step=steps.store,
            progress=progress,
            journal=journal,
        )
        conclude(where, config, summary, steps)
    return summary


@contextmanager
def started(config: Config, summary: RunSummary) -> Iterator[tuple[Warehouse, Journal]]:
    """A run under way: in the runs journal, holding the run lock, the warehouse migrated and
    the catalog synced, and its `runs` row written (`failed` with the error when the block
    raises). Yields the warehouse and the journal."""
    settings = config.settings
    where = target(settings)
    with (
        opened_journal(config) as journal,
        journaled(journal, summary),
        run_lock(where, settings.lock_timeout_s),
        lake_writers(),
    ):
        since_last(journal, summary)
        prepare(where, config, settings.lock_timeout_s)
        with recorded(where, summary, config):
            yield where, journal


def conclude(where: Warehouse, config: Config, summary: RunSummary, steps: Steps) -> None:
    """The end of a run that stored its files: the rules when they are due, the run's row, and
    the analyst snapshot when it is behind."""
    settings = config.settings
    if summary.as_of is not None and rules_due(where, summary, config):
        judge(where, config, summary, steps.flag)
    finish(where, summary, config)
    if publish_due(where, summary, settings.analytics_path):
        summary.lake_snapshot = steps.publish(
            where, settings.analytics_path, settings.lock_timeout_s
        )
        summary.published = True


def opened_journal(config: Config) -> Journal:
    """The runs journal of the configured warehouse (warehouse/journal.py), not yet opened."""
    settings = config.settings
    return Journal(journal_path(target(settings), settings.db))


def since_last(journal: Journal, summary: RunSummary) -> None:
    """Holding the run lock: start a new journal file when it is large, and note the runs that
    died since the last that ended (a kill, out of memory), with the file each was parsing."""
    journal.rotate()
    summary.interrupted = interrupted(tail(journal.path), summary.run_id)


@contextmanager
def writer_lock(config: Config, command: str) -> Iterator[None]:
    """The run lock, taken before a run starts (`repflow run` takes it before Prefect's start-up,
    so a second run fails in a second). A run that finds it held is in the runs journal."""
    settings = config.settings
    with ExitStack() as stack:
        try:
            stack.enter_context(run_lock(target(settings), settings.lock_timeout_s))
        except WarehouseLocked as exc:
            locked_out = RunSummary(new_run_id(now()), command, now(), error=failure(exc))
            with opened_journal(config) as journal, journaled(journal, locked_out):
                pass
            raise
        yield


def stale_files(db: Warehouse) -> list[FileInfo]:
    """Loaded files that an older version of their format's reader read, oldest first."""
    with writer(db) as con:
        rows = con.execute(
            "SELECT file_id, path, sha256, bytes, athlete_id, format, "
            "coalesce(reader_version, 1) FROM ingested_files WHERE status = 'loaded' "
            "ORDER BY ingested_at, path"
        ).fetchall()
    return [FileInfo(*row[:5]) for row in rows if row[6] < sources.reader_version(str(row[5]))]


def stored_copy(inbox: Path, info: FileInfo, copies: Path) -> Content | str:
    """A loaded file's bytes, read once from where it still is (a large one copied into
    `copies`), when they are the bytes it had; else why it cannot be re-read."""
    path = Path(info.path) if Path(info.path).is_absolute() else inbox / info.path
    if not path.is_file():
        return f"not at {path} any more: it cannot be re-read"
    try:
        read = content.read(path, None, keep=True, copy_to=copies)
    except (OSError, ChangedWhileRead) as exc:
        return f"{path} could not be read ({exc}): it cannot be re-read"
    if read.sha256 != info.sha256:
        if read.copy is not None:
            read.copy.unlink()
        return "its content changed since it loaded: the new content loads as a new file"
    return read


def reload(config: Config, as_of: date, progress: Progress | None = None) -> RunSummary:
    """Read again, with today's readers, the stored files an older reader read (`repflow
    reload`): what a fixed reader changes is a correction (set_corrections), not an edit. The
    rules run again when they are due. A file no longer in the inbox keeps its sets."""
    summary = RunSummary(new_run_id(now()), "reload", now(), as_of=as_of)
    with started(config, summary) as (where, _):
        _reread(where, config, summary, progress)
        conclude(where, config, summary, Steps())
    return summary


def _reread(
    where: Warehouse, config: Config, summary: RunSummary, progress: Progress | None
) -> None:
    settings = config.settings
    stale = stale_files(where)
    if progress is not None:
        progress.begin(len(stale))
    for info in stale:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="repflow-read-") as copies:
            read = stored_copy(settings.inbox, info, Path(copies))
            result = (
                read
                if isinstance(read, str)
                else parse_with(
                    read.source(),
                    info.athlete_id,
                    settings.row_context(),
                    hints_for(config, info.athlete_id, excluding=info.file_id),
                    None,
                    read.long_line,
                )
            )
        if isinstance(result, str):
            summary.skipped_paths.append(f"{info.path!r}: not re-read: {result}")
            continue
        with writer(where) as con:
            outcome = load_file(con, info, result, summary.run_id, reread=True)
        summary.files.append((info, outcome))
        if progress is not None:
            progress.file_done(info, outcome, time.monotonic() - started)
            progress.batch_done()
