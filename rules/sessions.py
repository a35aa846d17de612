"""From sets to sessions: what each session achieved, per athlete and exercise.

A session's top load L is its heaviest working load; its top sets are the working sets at L
(within 0.01 kg); it achieves S x R @ L, S top sets with at least R reps each.
"""

from __future__ import annotations

from datetime import date

import polars as pl

LOAD_TOLERANCE_KG = 0.01
WORKING_TYPES = ("working", "failure")
PAIR = ("athlete_id", "exercise_id")
SESSION = ("athlete_id", "exercise_id", "session_id")


def with_local_dates(
    sets: pl.DataFrame, timezones: dict[str, str], default_timezone: str
) -> pl.DataFrame:
    """Add `local_date`, the date of each set in its athlete's timezone."""
    zone = (
        pl.col("athlete_id").replace_strict(timezones, default=default_timezone)
        if timezones
        else pl.lit(default_timezone)
    )
    local: pl.Expr = pl.lit(None, pl.Date)
    for name in sorted({default_timezone, *timezones.values()}):
        converted = pl.col("performed_at").dt.convert_time_zone(name).dt.date()
        local = pl.when(zone == name).then(converted).otherwise(local)
    return sets.with_columns(local_date=local)


def is_working() -> pl.Expr:
    return pl.col("set_type").is_in(WORKING_TYPES)


def summarise(sets: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per athlete x exercise x session that has a working set with reps, on or before
    `as_of`, in time order, with its achievement and the history counters the rules need."""
    working = sets.filter(
        (pl.col("local_date") <= as_of) & is_working() & pl.col("reps").is_not_null()
    ).with_columns(top_load=pl.col("load_kg").max().over(SESSION))
    top = working.filter(pl.col("load_kg") >= pl.col("top_load") - LOAD_TOLERANCE_KG)
    started = working.group_by(SESSION).agg(
        started_at=pl.col("performed_at").min(),
        session_date=pl.col("local_date").sort_by("performed_at").first(),
    )
    achieved = top.group_by(SESSION).agg(
        load=pl.col("top_load").first(),
        sets=pl.len().cast(pl.Int64),
        reps=pl.col("reps").min().cast(pl.Int64),
        max_rpe=pl.col("rpe").max(),
        load_unit=pl.col("load_unit").mode().sort().first(),
        stack_increment_kg=pl.col("stack_increment_kg").max(),
    )
    return (
        started.join(achieved, on=SESSION)
        .sort([*PAIR, "started_at", "session_id"])
        .with_columns(
            position=pl.int_range(pl.len()).over(PAIR),
            count=pl.len().over(PAIR),
            first_date=pl.col("session_date").min().over(PAIR),
        )
    )


def first_in_session(sets: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Per athlete, exercise and session: did another exercise's working set come first?"""
    day = sets.filter(pl.col("local_date") <= as_of)
    per_exercise = day.group_by(SESSION).agg(
        first_any=pl.col("set_order").min(),
        first_working=pl.col("set_order").filter(is_working()).min(),
    )
    by_first = pl.col("exercise_id").sort_by("first_working", nulls_last=True)
    first_working = pl.col("first_working").sort(nulls_last=True)
    leaders = per_exercise.group_by(["athlete_id", "session_id"]).agg(
        lead=first_working.first(),
        lead_exercise=by_first.first(),
        runner_up=first_working.slice(1, 1).first(),
        runner_up_exercise=by_first.slice(1, 1).first(),
    )
    ranked = per_exercise.join(leaders, on=["athlete_id", "session_id"])
    other_first = (
        pl.when(pl.col("lead_exercise") == pl.col("exercise_id"))
        .then(pl.col("runner_up"))
        .otherwise(pl.col("lead"))
    )
    other_name = (
        pl.when(pl.col("lead_exercise") == pl.col("exercise_id"))
        .then(pl.col("runner_up_exercise"))
        .otherwise(pl.col("lead_exercise"))
    )
    return ranked.select(
        *SESSION,
        came_after=(other_first < pl.col("first_any")).fill_null(False),
        came_after_exercise=other_name,
    )
