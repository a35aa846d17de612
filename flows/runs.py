"""A run's bookkeeping: its summary, its row in `runs`, whether the rules are due, and
whether the analyst snapshot lags the working database."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from flows.config import Config
from flows.discovery import Ignored, Refused, Unwalkable
from rules import evaluate_relation
from rules.silence import explain
from warehouse import catalog
from warehouse.db import Warehouse, reader, writer
from warehouse.flags import rule_sets, store_flags
from warehouse.journal import Interrupted, Journal
from warehouse.lake import Lake, redact
from warehouse.load import FileInfo, FileOutcome


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
    silence: str | None = None  # why the rules, having run, gave no flag
    published: bool = False
    sets_watermark: str | None = None  # the stored sets, when the rules were due (rules_due)
    error: str | None = None  # why the run failed: its status is then `failed`
    lake_snapshot: int | None = None  # on a DuckLake: the snapshot the run ended at
    # Files left for the next run, with why: changed while read, or still being written.
    deferred: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    # Earlier runs that never ended (killed), from the runs journal: said once, by this run.
    interrupted: list[Interrupted] = field(default_factory=list)

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
        trouble = self.count("failed") or self.problems
        return "completed_with_failures" if trouble else "succeeded"

    @property
    def problems(self) -> list[str]:
        """Paths the run failed for without a file record: a path named on the command line
        that is not a file to read, a folder that could not be walked."""
        return [path for path in self.skipped_paths if isinstance(path, Refused | Unwalkable)]

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "succeeded" else 1

    def row(self) -> dict[str, object]:
        """The run's columns in `runs` (the config's fingerprint and the finish time aside)."""
        rules_ran = self.rules_ran
        return {
            "run_id": self.run_id,
            "command": self.command,
            "started_at": self.started_at,
            "status": self.status,
            "as_of": self.as_of if rules_ran else None,
            "files_seen": len(self.files) + self.seen_before,
            "files_loaded": self.count("loaded"),
            "files_duplicate": self.count("duplicate") + self.seen_before,
            "files_failed": self.count("failed"),
            "rows_loaded": self.total("loaded"),
            "rows_revised": self.total("revised"),
            "rows_rejected": self.total("rejected"),
            "flags_emitted": self.flags.height if self.flags is not None and rules_ran else None,
            "changed": self.changed,
            "sets_watermark": self.sets_watermark if rules_ran else None,
            "rules_sha256": rules_fingerprint() if rules_ran else None,
            "error": self.error,
        }


def new_run_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def now() -> datetime:
    return datetime.now(UTC)


def prepare(db: Warehouse, config: Config, timeout_s: float) -> None:
    """Migrate the warehouse and mirror the exercise catalog before any file loads."""
    with writer(db, timeout_s=timeout_s) as con:
        catalog.sync_exercises(con, config.catalog, config.programs)


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
    """The code that turns sets into flags: the rules, the SQL that gives them the sets, and
    the code that decides each set's exercise (an upgrade of the matcher re-maps sets)."""
    digest = hashlib.sha256()
    for package, names in (
        ("rules", None),
        ("warehouse", ("flags.py", "catalog.py")),
        ("schemas", ("catalog.py", "exercise_match.py")),
    ):
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


def judge(
    db: Warehouse,
    config: Config,
    summary: RunSummary,
    step: Callable[[Warehouse, Config, date, str], pl.DataFrame] = flag,
) -> None:
    """Run the rules (`step`) as of the run's as-of date; when they give no flag, say why."""
    assert summary.as_of is not None
    summary.flags = step(db, config, summary.as_of, summary.run_id)
    summary.rules_ran = True
    if summary.flags.height == 0:
        with writer(db) as con:
            summary.silence = why_no_flags(con, config, summary.as_of)


def why_no_flags(
    con: duckdb.DuckDBPyConnection, config: Config, as_of: date, athlete: str | None = None
) -> str | None:
    """Why the stored sets (one athlete's, or everyone's) give no flag as of `as_of`."""
    settings = config.settings
    return explain(
        con,
        rule_sets(con),
        config.programs,
        as_of,
        settings.row_context().athlete_timezones,
        settings.timezone,
        athlete,
    )


NOT_RUN = "no flags yet: run `repflow run` after loading some sets"
CURRENT_FLAGS = (
    "SELECT count(*) FROM v_current_flags WHERE $athlete IS NULL OR athlete_id = $athlete"
)
LAST_JUDGED = (
    "SELECT as_of FROM runs WHERE flags_emitted IS NOT NULL ORDER BY finished_at DESC LIMIT 1"
)


def why_no_current_flags(
    where: Warehouse, config: Config, athlete: str | None = None
) -> str | None:
    """Why a warehouse (or the analyst snapshot) holds no current flag for `athlete` (or for
    anyone): the rules never ran, or why they gave none as of the last run's date. None when
    it holds some."""
    with reader(where) as con:
        current = con.execute(CURRENT_FLAGS, {"athlete": athlete}).fetchone()
        if current and current[0]:
            return None
        judged = con.execute(LAST_JUDGED).fetchone()
        if judged is None:
            return NOT_RUN
        return why_no_flags(con, config, judged[0], athlete) or NOT_RUN


def finish(db: Warehouse, summary: RunSummary, config: Config) -> None:
    """Write the run's row in `runs`, or mark it failed when it was written already (the
    publish after it failed)."""
    row = summary.row() | {"config_sha256": config.sha256}
    with writer(db) as con:
        con.execute("DELETE FROM runs WHERE run_id = ?", [summary.run_id])
        con.execute(
            f"INSERT INTO runs ({', '.join(row)}, finished_at) "
            f"VALUES ({', '.join('?' for _ in row)}, now())",
            list(row.values()),
        )


def failure(exc: BaseException) -> str:
    """What a run that failed with `exc` records as its error: a password in a DSN redacted."""
    return redact(f"{type(exc).__name__}: {exc}")


def failed(db: Warehouse, summary: RunSummary, config: Config, exc: BaseException) -> None:
    """Record the run as failed, with why, before it ends."""
    summary.error = failure(exc)
    # The disk that failed the run may refuse its record too: the original error goes on, and
    # the runs journal keeps the run (journaled).
    with suppress(Exception):
        finish(db, summary, config)


@contextmanager
def recorded(where: Warehouse, summary: RunSummary, config: Config) -> Iterator[None]:
    """Whatever fails inside records the run as failed, then goes on (a Ctrl-C too). The
    snapshot is not published: a failed run may have found the working database damaged, and
    the snapshot stays the last good state; `repflow status` reads the failure from the
    journal."""
    try:
        yield
    except BaseException as exc:
        failed(where, summary, config, exc)
        raise


@contextmanager
def journaled(journal: Journal, summary: RunSummary) -> Iterator[None]:
    """The run's start and end in the runs journal: every run, also one that could not write
    the warehouse (the lock held, a damaged database, a full disk), with its error."""
    journal.write("start", run_id=summary.run_id, command=summary.command, pid=os.getpid())
    try:
        yield
    except BaseException as exc:
        summary.error = summary.error or failure(exc)
        raise
    finally:
        deferred = [f"{path}: {why}" for path, why in summary.deferred]
        journal.write("end", **summary.row(), problems=summary.problems, deferred=deferred)


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
