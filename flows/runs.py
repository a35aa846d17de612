"""A run's bookkeeping: its summary, its row in `runs`, whether the rules are due, and
whether the analyst snapshot lags the working database."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
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
from flows.discovery import Ignored, Refused
from rules import evaluate_relation
from warehouse import catalog
from warehouse.db import Warehouse, reader, writer
from warehouse.flags import rule_sets, store_flags
from warehouse.lake import Lake, redact
from warehouse.load import FileInfo, FileOutcome
from warehouse.publish import publish


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
