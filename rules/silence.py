"""Why the rules gave no flag, for one athlete or the whole warehouse, in a sentence that says
what to change: no sets, no working sets with reps, every session after the as-of date, or
every exercise dormant (then `--as-of` or `dormant_days`)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from rules.programs import attach
from rules.sessions import FirstInSession, summarise
from schemas.config_files import ProgramsFile

NONE_FIRST = FirstInSession(exercises=[], assigned=[], default=False)
COUNTS = """
SELECT count(*),
       count(*) FILTER (WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL),
       min(performed_at) FILTER (WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL)
FROM {relation}
"""


def explain(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    programs: ProgramsFile,
    as_of: date,
    timezones: dict[str, str],
    default_timezone: str,
    athlete: str | None = None,
) -> str | None:
    """Why `relation` (the sets the rules read, SET_COLUMNS), or one athlete's sets in it,
    gives no flag as of `as_of`; None when it does give some."""
    if athlete is not None:
        quoted = "'" + athlete.replace("'", "''") + "'"
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW athlete_rule_sets AS "
            f"SELECT * FROM {relation} WHERE athlete_id = {quoted}"
        )
        relation = "athlete_rule_sets"
    whose = "" if athlete is None else f" for athlete {athlete}"
    found = con.execute(COUNTS.format(relation=relation)).fetchone()
    stored, working, first = found if found else (0, 0, None)
    if not stored:
        return f"No sets are stored{whose} yet: load an export (`repflow ingest`, or the inbox)."
    if not working:
        return (
            f"None of the {stored:,} sets stored{whose} is a working set with reps (they are "
            "warm-ups, drop sets, or timed or distance sets): the rules judge working sets "
            "with reps."
        )
    pairs = summarise(con, relation, as_of, 0, timezones, default_timezone, NONE_FIRST)
    if pairs.height == 0:
        return (
            f"Every session{whose} is after the as-of date {as_of} (the first is on "
            f"{first:%Y-%m-%d}): run with a later `--as-of`."
        )
    judged = attach(pairs, programs).with_columns(
        gap_days=(pl.lit(as_of) - pl.col("session_date")).dt.total_days()
    )
    live = judged.filter(
        (pl.col("dormant_days") == 0) | (pl.col("gap_days") <= pl.col("dormant_days"))
    )
    if live.height:
        return None
    last = judged.sort("session_date", "exercise_id", descending=[True, False]).row(0, named=True)
    day: date = last["session_date"]
    return (
        f"Every exercise{whose} is dormant: the last session, {last['exercise_id']} on "
        f"{day:%Y-%m-%d}, is {last['gap_days']:,} days before the as-of date {as_of}, more "
        f"than dormant_days ({last['dormant_days']}) of program {last['program_id']}. Run with "
        f"`--as-of "
        f"{day + timedelta(days=1):%Y-%m-%d}` to judge the sessions as of then, or raise "
        f"dormant_days in programs.toml (0 keeps every exercise)."
    )
