"""From sets to sessions, in SQL: what each session achieved, per athlete and exercise.

A session's top load L is its heaviest working load; its top sets are the working sets at L
(within 0.01 kg); it achieves S x R @ L, S top sets with at least R reps each. On an assisted
exercise the load is help, and the least help is the top: loads are read mirrored (-help), so
that every rule reads "heavier" the same way. DuckDB does the heavy aggregation; only one row
per athlete and exercise, with its last few sessions as columns and its best before the last
session, comes back to polars for the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

LOAD_TOLERANCE_KG = 0.01
ADVICE_WINDOW_DAYS = 28
# Columns of the relation the rules read (the warehouse's `sets`, or a frame in tests).
SET_COLUMNS = (
    "athlete_id",
    "exercise_id",
    "session_id",
    "performed_at",
    "set_type",
    "reps",
    "load_kg",
    "load_unit",
    "rpe",
    "stack_increment_kg",
    "file_id",
    "source_line",
    "assisted",
)
# What each of the last sessions achieved, as columns `load`, `load_1`, ... (newest first).
HISTORY_FIELDS = (
    "load",
    "sets",
    "reps",
    "max_rpe",
    "session_date",
    "load_unit",
    "stack_increment_kg",
)


@dataclass(frozen=True)
class FirstInSession:
    """The exercises the do_first advice looks at: those assigned to a first-in-session
    program, and every unassigned one when the default program is such a program."""

    exercises: list[str]
    assigned: list[str]
    default: bool


# Sets are grouped into sessions once, for each session's start, top load and, where every
# working set is within the tolerance of the top load (all of them top sets), what it achieved.
# Only the sets of the other sessions (back-off sets, pyramids) are read again, for their top
# sets. Every session's achievement is needed: the record advice compares the last session's
# estimated 1RM with the best of all before it. At 10 M sets, a list of every session's sets
# filtered with lambdas took most of the time (docs/performance.md), and reading every set a
# second time, for every session's top sets, doubled this query's.
_SESSIONS = """
WITH working AS (
    SELECT athlete_id, exercise_id, session_id, performed_at, reps, rpe, load_unit,
           stack_increment_kg, source_line, assisted,
           CASE WHEN assisted THEN -load_kg ELSE load_kg END AS load_kg
    FROM {relation}
    WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL
),
session AS (
    SELECT athlete_id, exercise_id, session_id,
           min(performed_at) AS started_at,
           max(load_kg) AS load,
           min(load_kg) AS lightest,
           count(*) AS sets,
           min(reps) AS reps,
           max(rpe) AS max_rpe,
           count(*) FILTER (WHERE load_unit = 'lb') AS lb_sets,
           max(stack_increment_kg) AS stack_increment_kg,
           bool_or(assisted) AS assisted
    FROM working
    GROUP BY ALL
),
dated AS (
    SELECT s.*,
           -- timezone() takes 0.65 s of CPU per 2.5 M sessions even for UTC, so UTC is plain
           -- arithmetic (0.05 s). Another constant zone converts in bulk; a per-row zone is
           -- slower still, so only athletes with a zone of their own take that branch.
           CASE WHEN coalesce(z.timezone, $default_tz) = 'UTC'
                THEN CAST(make_timestamp(epoch_us(s.started_at)) AS DATE)
                WHEN z.timezone IS NULL
                THEN CAST(timezone($default_tz, s.started_at) AS DATE)
                ELSE CAST(timezone(z.timezone, s.started_at) AS DATE) END AS session_date
    FROM session s LEFT JOIN rule_zones z USING (athlete_id)
),
counted AS (
    SELECT * FROM dated WHERE session_date <= $as_of
),
-- what each session achieved: S x R @ L, S top sets with at least R reps each; and its
-- lighter working sets (back-off or pyramid sets), and whether one came before the top sets
achieved AS (
    SELECT athlete_id, exercise_id, session_id, started_at, session_date, load, sets, reps,
           max_rpe, lb_sets, stack_increment_kg, assisted, 0 AS lighter, false AS ramped
    FROM counted
    WHERE lightest >= load - {tolerance}
    UNION ALL
    SELECT athlete_id, exercise_id, session_id,
           any_value(s.started_at), any_value(s.session_date), any_value(s.load),
           count(*) FILTER (WHERE {top}), min(c.reps) FILTER (WHERE {top}),
           max(c.rpe) FILTER (WHERE {top}),
           count(*) FILTER (WHERE {top} AND c.load_unit = 'lb'),
           max(c.stack_increment_kg) FILTER (WHERE {top}), any_value(s.assisted),
           count(*) FILTER (WHERE NOT {top}),
           min(struct_pack(c.performed_at, c.source_line)) FILTER (WHERE NOT {top})
               < min(struct_pack(c.performed_at, c.source_line)) FILTER (WHERE {top})
    FROM working c
    JOIN (SELECT * FROM counted WHERE lightest < load - {tolerance}) s
        USING (athlete_id, exercise_id, session_id)
    GROUP BY ALL
),
pairs AS MATERIALIZED (
    SELECT athlete_id, exercise_id,
           count(*) AS count,
           min(session_date) AS first_date,
           coalesce(list(session_date ORDER BY session_date)
                        FILTER (WHERE session_date >= $window_start), []) AS recent_dates,
           -- the last depth + 1 sessions, newest first (ties on start broken by session id)
           max_by(struct_pack(session_id, {fields}, lb := 2 * lb_sets > sets, lighter, ramped),
                  struct_pack(started_at, session_id), $depth + 1) AS last,
           bool_or(assisted) AS assisted,
           bool_or(load > {tolerance}) AS loaded_before,
           -- the two best sessions, each the first to reach its best: the best before the last
           -- session is one of them. The best estimated 1RM (Epley, from the achievement, with
           -- load); on an assisted exercise, the least help, and the most reps with it.
           max(struct_pack(score := CASE WHEN assisted THEN load
                                         ELSE load * (1 + reps::DOUBLE / 30) END,
                           reps := CASE WHEN assisted THEN reps ELSE 0 END,
                           first := -epoch_us(started_at), session_date, session_id), 2)
               FILTER (WHERE assisted OR load > 0) AS best
    FROM achieved
    GROUP BY ALL
),
-- do_first: in the last session, did another exercise's working set come before this one?
last_session AS (
    SELECT athlete_id, exercise_id, last[1].session_id AS session_id
    FROM pairs
    WHERE list_contains($first_exercises, exercise_id)
       OR ($default_first AND NOT list_contains($assigned, exercise_id))
),
ordered AS (
    SELECT c.athlete_id, c.session_id, c.exercise_id, c.set_type,
           row_number() OVER (PARTITION BY c.athlete_id, c.session_id
                              ORDER BY c.performed_at, c.file_id, c.source_line) AS position
    FROM {relation} c
    SEMI JOIN (SELECT DISTINCT athlete_id, session_id FROM last_session) l
        USING (athlete_id, session_id)
),
firsts AS (
    SELECT athlete_id, session_id, exercise_id,
           min(position) AS first_any,
           min(position) FILTER (WHERE set_type IN ('working', 'failure')) AS first_working
    FROM ordered GROUP BY ALL
),
leaders AS (
    SELECT athlete_id, session_id,
           list(struct_pack(pos := first_working, exercise_id) ORDER BY first_working)
               FILTER (WHERE first_working IS NOT NULL) AS working_order
    FROM firsts GROUP BY ALL
),
came_after AS (
    SELECT athlete_id, exercise_id,
           CASE WHEN g.working_order[1].exercise_id = l.exercise_id
                THEN g.working_order[2] ELSE g.working_order[1] END AS other,
           f.first_any
    FROM last_session l
    JOIN firsts f USING (athlete_id, session_id, exercise_id)
    JOIN leaders g USING (athlete_id, session_id)
),
best_before AS (
    SELECT athlete_id, exercise_id,
           CASE WHEN best[1].session_id = last[1].session_id THEN best[2] ELSE best[1] END AS b
    FROM pairs
)
SELECT p.athlete_id, p.exercise_id, p.count, p.first_date, p.recent_dates,
       p.last[1].session_id AS session_id,
       CASE WHEN c.other.pos < c.first_any THEN c.other.exercise_id END AS came_after_exercise,
       p.assisted, p.loaded_before,
       b.b.score AS best_before_kg,
       b.b.reps AS best_before_reps,
       b.b.session_date AS best_before_date,
       p.last[1].lighter AS lighter,
       p.last[1].ramped AS ramped,
       {history}
FROM pairs p
JOIN best_before b USING (athlete_id, exercise_id)
LEFT JOIN came_after c USING (athlete_id, exercise_id)
"""


def _history_columns(depth: int) -> str:
    """`load`, `sets`, ... of the last session, and `load_1`, `sets_1`, ... of earlier ones.
    A session's unit is the one most of its top sets were logged in."""

    def value(name: str, back: int) -> str:
        if name == "load_unit":
            lb = f"p.last[{back + 1}].lb"
            return f"CASE WHEN {lb} THEN 'lb' WHEN NOT {lb} THEN 'kg' END"
        return f"p.last[{back + 1}].{name}"

    return ",\n       ".join(
        f"{value(name, back)} AS {name}{f'_{back}' if back else ''}"
        for back in range(depth + 1)
        for name in HISTORY_FIELDS
    )


def summarise(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    as_of: date,
    depth: int,
    timezones: dict[str, str],
    default_timezone: str,
    first: FirstInSession,
) -> pl.DataFrame:
    """One row per athlete and exercise with a working set with reps on or before `as_of`:
    its last session's achievement and the `depth` sessions before it as columns _1.._depth,
    the last session's lighter working sets (`lighter`, and `ramped` when one came before its
    top sets), and the best of the sessions before the last (`best_before_kg`: the estimated
    1RM, or the mirrored help of an assisted exercise with `best_before_reps`; with the date of
    the first session that reached it).

    A session counts from the local date it started on.
    """
    zones = pl.DataFrame(
        {"athlete_id": list(timezones), "timezone": list(timezones.values())},
        schema={"athlete_id": pl.String, "timezone": pl.String},
    )
    con.register("rule_zones", zones)
    try:
        sql = _SESSIONS.format(
            relation=relation,
            tolerance=LOAD_TOLERANCE_KG,
            top=f"c.load_kg >= s.load - {LOAD_TOLERANCE_KG}",
            fields=", ".join(name for name in HISTORY_FIELDS if name != "load_unit"),
            history=_history_columns(depth),
        )
        window_start = as_of - timedelta(days=ADVICE_WINDOW_DAYS - 1)
        params = {
            "as_of": as_of,
            "default_tz": default_timezone,
            "window_start": window_start,
            "depth": depth,
            "first_exercises": first.exercises,
            "assigned": first.assigned,
            "default_first": first.default,
        }
        frame = con.execute(sql, params).pl()
    finally:
        con.unregister("rule_zones")
    return frame.with_columns(
        pl.col("count").cast(pl.Int64),
        *[pl.col(f"sets{s}").cast(pl.Int64) for s in _suffixes(depth)],
        *[pl.col(f"reps{s}").cast(pl.Int64) for s in _suffixes(depth)],
    )


def _suffixes(depth: int) -> list[str]:
    return [""] + [f"_{back}" for back in range(1, depth + 1)]
