"""The decision table (docs/rules.md), evaluated for every athlete and exercise at once."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
from polars._typing import PolarsDataType

from rules import reasons
from rules.programs import attach
from rules.sessions import ADVICE_WINDOW_DAYS, SET_COLUMNS, FirstInSession, summarise
from schemas.config_files import ProgramsFile
from schemas.vectorized import first_match

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
TOLERANCE = 0.01
PAIR = ("athlete_id", "exercise_id")


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


def _progression(pairs: pl.DataFrame, depth: int) -> pl.DataFrame:
    decided = _decide(pairs, depth)
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


def _advice(pairs: pl.DataFrame, as_of: date) -> pl.DataFrame:
    often = pairs.filter(
        pl.col("per_week").is_not_null()
        & (pl.col("first_date") <= pl.lit(as_of) - pl.duration(days=ADVICE_WINDOW_DAYS))
        & (pl.col("recent_dates").list.len() < pl.col("per_week") * 4)
    ).with_columns(
        action=pl.lit("train_more_often"),
        reason=reasons.train_more_often(as_of, ADVICE_WINDOW_DAYS),
        evidence=pl.col("recent_dates"),
    )
    first = pairs.filter(
        pl.col("first_in_session") & pl.col("came_after_exercise").is_not_null()
    ).with_columns(
        action=pl.lit("do_first"),
        reason=reasons.do_first(),
        evidence=pl.concat_list(pl.col("session_date")),
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


def _first_in_session(programs: ProgramsFile) -> FirstInSession:
    """Which exercises' programs, for any athlete, ask to come first in a session."""
    first = {pid for pid, p in programs.programs.items() if p.first_in_session}
    first |= {
        pid for by in programs.overrides.values() for pid, o in by.items() if o.first_in_session
    }
    return FirstInSession(
        exercises=[e for e, pid in programs.assign.items() if pid in first],
        assigned=list(programs.assign),
        default="default" in first,
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
    """Flags for the sets in a frame (SET_COLUMNS), evaluated in an in-memory DuckDB."""
    con = duckdb.connect()
    try:
        con.register("rule_sets", sets.select(SET_COLUMNS))
        return evaluate_relation(con, "rule_sets", programs, as_of, timezones, default_timezone)
    finally:
        con.close()


def evaluate_relation(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    programs: ProgramsFile,
    as_of: date,
    timezones: dict[str, str] | None = None,
    default_timezone: str = "UTC",
) -> pl.DataFrame:
    """Flags for every athlete and exercise with a working set with reps on or before `as_of`.

    `relation` names a table or view of `con` with SET_COLUMNS; the result has FLAG_COLUMNS,
    progression flags first.
    """
    depth = max(1, _longest_confirm(programs) - 1)
    pairs = summarise(
        con, relation, as_of, depth, timezones or {}, default_timezone, _first_in_session(programs)
    )
    if pairs.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    with_params = attach(pairs, programs).with_columns(
        (pl.col(f"max_rpe{s}") < pl.col("rpe_cap")).fill_null(True).alias(f"clean{s}")
        for s in [""] + [f"_{k}" for k in range(1, depth + 1)]
    )
    flags = pl.concat(
        [_progression(with_params, depth), _advice(with_params, as_of)],
        how="diagonal_relaxed",
    )
    return flags.select(pl.col(name).cast(dtype) for name, dtype in FLAG_SCHEMA.items()).sort(
        ["athlete_id", "exercise_id", "kind", "action"], descending=[False, False, True, False]
    )
