"""What the report shows, read from the analyst snapshot: a handful of queries, whatever the
number of athletes, so a report of a whole gym costs the same few queries.

Charts are drawn for the athlete × exercise pairs a coach acts on: those with a current flag,
and those trained within the program's `dormant_days` of the flags' as-of date (today when
there are no flags yet), as the rules see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from rules.programs import attach
from schemas.config_files import ProgramsFile
from warehouse.db import Warehouse, migrations, reader

# The flags' own date: every current flag comes from one run, evaluated as of one day.
FLAGS_AS_OF = "SELECT max(as_of) FROM v_current_flags"
# Every pair with a working set, with its last session, and whether it has a current flag.
PAIRS = """
WITH trained AS (
    SELECT athlete_id, exercise_id, max(session_date) AS last_session
    FROM v_sessions
    WHERE working_sets > 0 AND ($athlete IS NULL OR athlete_id = $athlete)
    GROUP BY ALL
)
SELECT t.athlete_id, t.exercise_id, t.last_session,
       EXISTS (
           SELECT 1 FROM v_current_flags f
           WHERE f.athlete_id = t.athlete_id AND f.exercise_id = t.exercise_id
       ) AS flagged
FROM trained t
"""
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
SEMI JOIN charted c USING (athlete_id, exercise_id)
LEFT JOIN records r USING (athlete_id, exercise_id, session_date)
WHERE p.working_sets > 0
ORDER BY p.athlete_id, p.exercise_id, p.session_number
"""
# What each charted or flagged exercise is called and where it goes: the catalog's name and
# first primary muscle, else the athlete's own most used spelling (a name the catalog does not
# know keeps a slug of its own, which reads worse than what the athlete typed).
EXERCISES = """
WITH spellings AS (
    SELECT athlete_id, exercise_id, exercise_raw, count(*) AS sets
    FROM sets SEMI JOIN named USING (athlete_id, exercise_id)
    GROUP BY ALL
),
spelled AS (
    SELECT athlete_id, exercise_id, arg_max(exercise_raw, (sets, exercise_raw)) AS own_name
    FROM spellings GROUP BY ALL
)
SELECT s.athlete_id, s.exercise_id, coalesce(e.name, s.own_name) AS name,
       {muscle} AS muscle, coalesce({assisted}, false) AS assisted
FROM spelled s LEFT JOIN exercises e USING (exercise_id)
"""
FLAGS = """
SELECT athlete_id, exercise_id, kind, action, current_sets, current_reps, current_load_kg,
       next_sets, next_reps, next_load_kg, load_unit, reason, as_of
FROM v_current_flags
WHERE $athlete IS NULL OR athlete_id = $athlete
ORDER BY athlete_id, exercise_id, kind DESC, action
"""
ATHLETES = """
SELECT athlete_id, max(session_date) AS last_session
FROM v_sessions
WHERE $athlete IS NULL OR athlete_id = $athlete
GROUP BY ALL ORDER BY athlete_id
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
LAST_RUN = "SELECT max(finished_at) AS finished_at FROM runs"
SCHEMA = "SELECT coalesce(max(version), 0) FROM schema_migrations"
ATHLETE_KNOWN = "SELECT count(*) > 0 FROM sets WHERE athlete_id = $athlete"
CATALOG_COLUMNS = (
    "SELECT column_name FROM duckdb_columns() WHERE table_name = 'exercises' "
    "AND column_name IN ('primary_muscles', 'assisted')"
)


class UnknownAthlete(LookupError):
    """--athlete names an athlete with no sets in the snapshot."""


class SnapshotOutdated(RuntimeError):
    """The snapshot was published by an older repflow, without the views the report reads."""


@dataclass(frozen=True)
class ReportData:
    flags_as_of: date | None  # None: no run has evaluated the rules yet
    window_end: date  # the date `dormant_days` count back from
    left_out: int  # pairs with working sets but no chart: dormant, and not flagged
    progress: pl.DataFrame  # the charted pairs' sessions, in order
    exercises: pl.DataFrame  # athlete_id, exercise_id, name, muscle, assisted
    flags: pl.DataFrame
    athletes: pl.DataFrame  # every athlete with sessions, and their last one
    quality: pl.DataFrame
    failed: pl.DataFrame
    unmapped: pl.DataFrame
    last_run: dict[str, object]


def read(
    snapshot: Warehouse, programs: ProgramsFile, today: date, athlete: str | None = None
) -> ReportData:
    """The report's data; `today` stands in for the flags' date before any flags exist."""
    params = {"athlete": athlete}
    with reader(snapshot) as con:
        _check_schema(con, snapshot)
        if athlete is not None:
            known = con.execute(ATHLETE_KNOWN, params).fetchone()
            if not known or not known[0]:
                raise UnknownAthlete(f"athlete {athlete!r} has no sets in {snapshot}")
        found = con.execute(FLAGS_AS_OF).fetchone()
        flags_as_of: date | None = found[0] if found else None
        window_end = flags_as_of or today
        pairs = con.execute(PAIRS, params).pl()
        charted = _charted(pairs, programs, window_end)
        con.register("charted", charted.to_arrow())
        flags = con.execute(FLAGS, params).pl()
        named = pl.concat([charted, flags.select("athlete_id", "exercise_id")]).unique()
        con.register("named", named.to_arrow())
        return ReportData(
            flags_as_of=flags_as_of,
            window_end=window_end,
            left_out=pairs.height - charted.height,
            progress=con.execute(PROGRESS).pl(),
            exercises=con.execute(_exercises_query(con)).pl(),
            flags=flags,
            athletes=con.execute(ATHLETES, params).pl(),
            quality=con.execute(QUALITY, params).pl(),
            failed=con.execute(FAILED, params).pl(),
            unmapped=con.execute(UNMAPPED, params).pl(),
            last_run=con.execute(LAST_RUN).pl().row(0, named=True),
        )


def _charted(pairs: pl.DataFrame, programs: ProgramsFile, window_end: date) -> pl.DataFrame:
    """The pairs worth a chart: flagged, or last trained within their program's dormant_days
    of `window_end` (0 turns dormancy off, as in the rules). Later sessions count as recent."""
    with_program = attach(pairs, programs)
    age = (pl.lit(window_end) - pl.col("last_session")).dt.total_days()
    recent = age <= pl.col("dormant_days")
    keep = pl.col("flagged") | (pl.col("dormant_days") == 0) | recent
    return with_program.filter(keep).select("athlete_id", "exercise_id")


def _exercises_query(con: duckdb.DuckDBPyConnection) -> str:
    """EXERCISES, reading the catalog's muscles and `assisted` where the snapshot has them."""
    present = {row[0] for row in con.execute(CATALOG_COLUMNS).fetchall()}
    return EXERCISES.format(
        muscle="e.primary_muscles[1]" if "primary_muscles" in present else "NULL::VARCHAR",
        assisted="e.assisted" if "assisted" in present else "NULL::BOOLEAN",
    )


def _check_schema(con: duckdb.DuckDBPyConnection, snapshot: Warehouse) -> None:
    found = con.execute(SCHEMA).fetchone()
    version, latest = (found[0] if found else 0), migrations()[-1][0]
    if version < latest:
        raise SnapshotOutdated(
            f"{snapshot} has schema version {version} and this repflow needs {latest}: "
            "run `repflow run` to publish a current snapshot"
        )
