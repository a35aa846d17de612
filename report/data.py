"""What the report shows, read from the analyst snapshot: one query per view, whatever the
number of athletes, so a report of a whole gym costs the same handful of queries."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.db import Warehouse, migrations, reader
from warehouse.flags import FLAG_ASSISTED

# A record flag names its session as its newest evidence date, as a progression flag does; on
# a day with two sessions of an exercise it is the later one's.
PROGRESS = """
WITH records AS (
    SELECT DISTINCT athlete_id, exercise_id, list_max(evidence) AS session_date
    FROM flags WHERE action = 'record'
)
SELECT p.athlete_id, p.exercise_id, p.session_date, p.working_sets, p.reps_per_set,
       p.top_load_kg, p.e1rm_kg, p.load_unit, p.flag_action, p.flag_next_sets,
       p.flag_next_reps, p.flag_next_load_kg,
       r.session_date IS NOT NULL AND row_number() OVER (
           PARTITION BY p.athlete_id, p.exercise_id, p.session_date
           ORDER BY p.session_number DESC
       ) = 1 AS record
FROM v_exercise_progress p
LEFT JOIN records r USING (athlete_id, exercise_id, session_date)
WHERE ($athlete IS NULL OR p.athlete_id = $athlete) AND p.working_sets > 0
ORDER BY p.athlete_id, p.exercise_id, p.session_number
"""
FLAGS = f"""
SELECT athlete_id, exercise_id, kind, action, current_sets, current_reps, current_load_kg,
       next_sets, next_reps, next_load_kg, load_unit, reason, as_of, {FLAG_ASSISTED} AS assisted
FROM v_current_flags f LEFT JOIN exercises e USING (exercise_id)
WHERE $athlete IS NULL OR athlete_id = $athlete
ORDER BY athlete_id, exercise_id, kind DESC, action
"""
# With --athlete, only the files in that athlete's inbox folder: a report made for one athlete
# must not show the names of other athletes' files.
QUALITY = """
SELECT q.path, q.format, q.field, q.rule, q.errors
FROM v_data_quality q
WHERE $athlete IS NULL OR q.path IN (
    SELECT path FROM ingested_files WHERE athlete_id = $athlete
)
ORDER BY q.errors DESC, q.path, q.field, q.rule
"""
FAILED = """
SELECT path, error, ingested_at FROM ingested_files
WHERE status = 'failed' AND ($athlete IS NULL OR athlete_id = $athlete)
ORDER BY ingested_at DESC, path
"""
# Per athlete with --athlete: their own sets, in their own spelling.
UNMAPPED = """
SELECT example_name, exercise_id, athletes, sets FROM v_unmapped_exercises
WHERE $athlete IS NULL
UNION ALL
SELECT example_name, exercise_id, 1 AS athletes, sets FROM v_unmapped_by_athlete
WHERE athlete_id = $athlete
ORDER BY sets DESC, exercise_id
"""
LAST_RUN = "SELECT max(finished_at) AS finished_at, max(as_of) AS as_of FROM runs"
SCHEMA = "SELECT coalesce(max(version), 0) FROM schema_migrations"
ATHLETE_KNOWN = "SELECT count(*) > 0 FROM sets WHERE athlete_id = $athlete"


class UnknownAthlete(LookupError):
    """--athlete names an athlete with no sets in the snapshot."""


class SnapshotOutdated(RuntimeError):
    """The snapshot was published by an older repflow, without the views the report reads."""


@dataclass(frozen=True)
class ReportData:
    progress: pl.DataFrame
    flags: pl.DataFrame
    quality: pl.DataFrame
    failed: pl.DataFrame
    unmapped: pl.DataFrame
    last_run: dict[str, object]


def read(snapshot: Warehouse, athlete: str | None = None) -> ReportData:
    params = {"athlete": athlete}
    with reader(snapshot) as con:
        _check_schema(con, snapshot)
        if athlete is not None:
            known = con.execute(ATHLETE_KNOWN, params).fetchone()
            if not known or not known[0]:
                raise UnknownAthlete(f"athlete {athlete!r} has no sets in {snapshot}")
        return ReportData(
            progress=con.execute(PROGRESS, params).pl(),
            flags=con.execute(FLAGS, params).pl(),
            quality=con.execute(QUALITY, params).pl(),
            failed=con.execute(FAILED, params).pl(),
            unmapped=con.execute(UNMAPPED, params).pl(),
            last_run=con.execute(LAST_RUN).pl().row(0, named=True),
        )


def _check_schema(con: duckdb.DuckDBPyConnection, snapshot: Warehouse) -> None:
    found = con.execute(SCHEMA).fetchone()
    version, latest = (found[0] if found else 0), migrations()[-1][0]
    if version < latest:
        raise SnapshotOutdated(
            f"{snapshot} has schema version {version} and this repflow needs {latest}: "
            "run `repflow run` to publish a current snapshot"
        )
