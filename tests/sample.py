"""The bundled sample inbox as an analyst sees it: loaded, with a history of nightly flags.

The rules are evaluated as of every session day of the sample (the flags nightly runs would
have left; only their flags are stored, not a row in `runs` each), then a whole run as of
AS_OF publishes the snapshot: v_exercise_progress has a flag on most sessions, and
v_current_flags is the last run's. Plain pipeline calls, no Prefect.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from flows import discovery, pipeline, runs
from flows.config import load
from warehouse.db import writer

AS_OF = date(2026, 11, 26)
INBOX = Path(__file__).resolve().parent.parent / "data" / "inbox"


def build(root: Path) -> Path:
    """Load a copy of the sample inbox under `root`; return the analyst snapshot's path."""
    shutil.copytree(INBOX, root / "inbox")
    config = load({"inbox": root / "inbox", "db": root / "warehouse.duckdb"})
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", None, skipped=skipped)
    for day in _session_days(config.settings.db):
        runs.flag(config.settings.db, config, day, f"nightly-{day}")
    pipeline.execute(config, [], "run", AS_OF)
    return config.settings.analytics_path


def _session_days(db: Path) -> list[date]:
    with writer(db) as con:
        rows = con.execute(
            "SELECT DISTINCT session_date FROM v_sessions WHERE session_date < ? ORDER BY 1",
            [AS_OF],
        ).fetchall()
    return [row[0] for row in rows]
