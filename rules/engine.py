"""The decision table (docs/rules.md), evaluated for every athlete and exercise at once."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
from polars._typing import PolarsDataType

from rules import reasons
from rules.programs import attach
from rules.sessions import PAIR, first_in_session, summarise, with_local_dates
from schemas.config_files import ProgramsFile
from schemas.vectorized import first_match

# What the engine reads from the warehouse (warehouse.flags.rule_input).
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
    "set_order",
)
FLAG_TYPES: dict[str, PolarsDataType] = {
    "athlete_id": pl.String,
    "exercise_id": pl.String,
    "kind": pl.String,
    "action": pl.String,
    "current_sets": pl.Int64,
    "current_reps": pl.Int64,
    "current_load_kg": pl.Float64,
    "next_sets": pl.Int64,
    "next_reps": pl.Int64,
    "next_load_kg": pl.Float64,
    "load_unit": pl.String,
    "reason": pl.String,
    "evidence": pl.List(pl.Date),
    "program_id": pl.String,
}
FLAG_SCHEMA = pl.Schema(FLAG_TYPES)
FLAG_COLUMNS = tuple(FLAG_TYPES)
ADVICE_WINDOW_DAYS = 28
TOLERANCE = 0.01


def _history(sessions: pl.DataFrame, depth: int) -> pl.DataFrame:
    """The last session of each pair, with the `depth` sessions before it as columns _1.._depth."""
    fields = ("load", "sets", "reps", "clean", "session_date")
    shifted = [
        pl.col(name).shift(k).over(PAIR).alias(f"{name}_{k}")
        for k in range(1, depth + 1)
        for name in fields
    ]
    return sessions.with_columns(shifted).filter(pl.col("position") == pl.col("count") - 1)


def _same_load(k: int) -> pl.Expr:
    return (pl.col(f"load_{k}") - pl.col("load")).abs() <= TOLERANCE


def _decide(last: pl.DataFrame, depth: int) -> pl.DataFrame:
    s, r, load = pl.col("sets"), pl.col("reps"), pl.col("load")
    sets_max, reps_min, reps_max = pl.col("sets_max"), pl.col("reps_min"), pl.col("reps_max")
    target = pl.when(pl.col("ladder")).then(sets_max).otherwise(pl.min_horizontal(s, sets_max))
    regressed = (
        _same_load(1)
        & (pl.col("sets_1") >= s)
        & (pl.col("reps_1") >= r)
        & ((pl.col("sets_1") > s) | (pl.col("reps_1") > r))
    ).fill_null(False)
    confirmed = pl.all_horizontal(
        (pl.lit(k) >= pl.col("confirm"))
        | (
            pl.col(f"clean_{k}")
            & _same_load(k)
            & (pl.col(f"sets_{k}") >= pl.col("target"))
            & (pl.col(f"reps_{k}") >= reps_max)
        ).fill_null(False)
        for k in range(1, depth + 1)
    )
    step = (
        pl.when(pl.col("stack_increment_kg").is_not_null())
        .then(pl.col("stack_increment_kg"))
        .when(pl.col("load_unit") == "lb")
        .then(pl.col("step_lb_kg"))
        .otherwise(pl.col("step_kg"))
    )
    rule = (
        pl.when(pl.col("count") < pl.col("intro"))
        .then(pl.lit(1))
        .when(~pl.col("clean"))
        .then(pl.lit(2))
        .when(pl.col("regressed"))
        .then(pl.lit(3))
        .when(s < pl.col("sets_min"))
        .then(pl.lit(4))
        .when(r < reps_max)
        .then(pl.lit(5))
        .when(pl.col("ladder") & (s < sets_max))
        .then(pl.lit(6))
        .when(pl.col("confirmed"))
        .then(pl.lit(7))
        .otherwise(pl.lit(8))
    )
    by_rule: dict[int, tuple[str, pl.Expr, pl.Expr, pl.Expr]] = {
        # rule: (action, next sets, next reps, next load)
        1: ("hold", s, r, load),
        2: ("hold", s, r, load),
        3: ("hold", pl.col("sets_1"), pl.col("reps_1"), pl.col("load_1")),
        4: ("raise_sets", pl.col("sets_min"), r.clip(reps_min, reps_max), load),
        5: (
            "raise_reps",
            pl.min_horizontal(s, sets_max),
            pl.min_horizontal(r + pl.col("rep_step"), reps_max),
            load,
        ),
        6: ("raise_sets", s + 1, reps_min, load),
        7: ("raise_load", pl.col("target"), reps_min, load + pl.col("step")),
        8: ("hold", pl.col("target"), reps_max, load),
    }

    def pick(slot: int) -> pl.Expr:
        def value(item: str | pl.Expr) -> pl.Expr:
            return pl.lit(item) if isinstance(item, str) else item

        cases = [(pl.col("rule") == n, value(row[slot])) for n, row in by_rule.items()]
        return first_match(cases, pl.lit(None))

    return (
        last.with_columns(target=target, regressed=regressed, step=step)
        .with_columns(confirmed=confirmed)
        .with_columns(rule=rule)
        .with_columns(
            action=pick(0).cast(pl.String),
            next_sets=pick(1).cast(pl.Int64),
            next_reps=pick(2).cast(pl.Int64),
            next_load_kg=pick(3).cast(pl.Float64),
        )
    )


def _evidence(depth: int) -> pl.Expr:
    """Dates of the sessions a flag rests on, oldest first."""
    window = (
        pl.when(pl.col("rule") == 3)
        .then(pl.lit(2))
        .when(pl.col("rule").is_in([7, 8]))
        .then(pl.col("confirm"))
        .otherwise(pl.lit(1))
    )
    dates = [
        pl.when(pl.lit(k) < window).then(pl.col(f"session_date_{k}" if k else "session_date"))
        for k in range(depth, -1, -1)
    ]
    return pl.concat_list(dates).list.drop_nulls()


def _progression(sessions: pl.DataFrame, depth: int) -> pl.DataFrame:
    decided = _decide(_history(sessions, depth), depth)
    return decided.with_columns(evidence=_evidence(depth)).select(
        *PAIR,
        kind=pl.lit("progression"),
        action="action",
        current_sets="sets",
        current_reps="reps",
        current_load_kg="load",
        next_sets="next_sets",
        next_reps="next_reps",
        next_load_kg="next_load_kg",
        load_unit="load_unit",
        reason=reasons.progression(),
        evidence="evidence",
        program_id="program_id",
    )


def _advice(sessions: pl.DataFrame, sets: pl.DataFrame, as_of: date) -> pl.DataFrame:
    window_start = as_of - timedelta(days=ADVICE_WINDOW_DAYS - 1)
    recent = sessions.group_by(PAIR).agg(
        recent_dates=pl.col("session_date").filter(pl.col("session_date") >= window_start)
    )
    counted = sessions.filter(pl.col("position") == pl.col("count") - 1).join(recent, on=PAIR)
    often = counted.filter(
        pl.col("per_week").is_not_null()
        & (pl.col("first_date") <= as_of - timedelta(days=ADVICE_WINDOW_DAYS))
        & (pl.col("recent_dates").list.len() < pl.col("per_week") * 4)
    ).with_columns(
        action=pl.lit("train_more_often"),
        reason=reasons.train_more_often(as_of, ADVICE_WINDOW_DAYS),
        evidence=pl.col("recent_dates"),
    )
    order = first_in_session(sets, as_of)
    first = (
        counted.filter(pl.col("first_in_session"))
        .join(order, on=["athlete_id", "exercise_id", "session_id"])
        .filter(pl.col("came_after"))
        .with_columns(
            action=pl.lit("do_first"),
            reason=reasons.do_first(),
            evidence=pl.concat_list(pl.col("session_date")),
        )
    )
    return pl.concat(
        [
            frame.select(
                *PAIR,
                kind=pl.lit("advice"),
                action="action",
                load_unit="load_unit",
                reason="reason",
                evidence="evidence",
                program_id="program_id",
            )
            for frame in (often, first)
        ]
    )


def _longest_confirm(programs: ProgramsFile) -> int:
    confirms = [p.confirm_load for p in programs.programs.values()]
    confirms += [
        o.confirm_load for by in programs.overrides.values() for o in by.values() if o.confirm_load
    ]
    return max(confirms)


def evaluate(
    sets: pl.DataFrame,
    programs: ProgramsFile,
    as_of: date,
    timezones: dict[str, str] | None = None,
    default_timezone: str = "UTC",
) -> pl.DataFrame:
    """Flags for every athlete and exercise with a working set with reps on or before `as_of`.

    `sets` has SET_COLUMNS; the result has FLAG_COLUMNS, progression flags first.
    """
    local = with_local_dates(sets.select(SET_COLUMNS), timezones or {}, default_timezone)
    summary = summarise(local, as_of)
    if summary.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    with_params = attach(summary, programs).with_columns(
        clean=(pl.col("max_rpe") < pl.col("rpe_cap")).fill_null(True)
    )
    depth = max(1, _longest_confirm(programs) - 1)
    flags = pl.concat(
        [_progression(with_params, depth), _advice(with_params, local, as_of)],
        how="diagonal_relaxed",
    )
    return flags.select(pl.col(name).cast(dtype) for name, dtype in FLAG_SCHEMA.items()).sort(
        ["athlete_id", "exercise_id", "kind"], descending=[False, False, True]
    )
