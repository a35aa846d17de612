"""The decision table (docs/rules.md), evaluated for every athlete and exercise at once.

Rows 1-8 are expressions over the columns of one session and those before it, so the same
expressions give the prescription as of each of the last few sessions: row 1a (deload) asks
whether each of the last `stall_sessions` sessions missed the prescription the sessions before it
gave, a fixed look-back with no recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl
from polars._typing import PolarsDataType

from rules import reasons
from rules.programs import attach
from rules.sessions import ADVICE_WINDOW_DAYS, SET_COLUMNS, FirstInSession, summarise
from schemas.config_files import Program, ProgramsFile
from schemas.set_row import LB_TO_KG
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
# The rows of the decision table that step back, and what they are called.
STEP_BACK = {"0": "resume", "1a": "deload"}


def _name(field: str, back: int) -> str:
    """The column of a field of the session `back` sessions before the last: `load`,
    `load_1`, ..."""
    return f"{field}_{back}" if back else field


def col(field: str, back: int) -> pl.Expr:
    return pl.col(_name(field, back))


def _same_load(a: int, b: int) -> pl.Expr:
    return (col("load", a) - col("load", b)).abs() <= TOLERANCE


@dataclass(frozen=True)
class Prescription:
    """What rows 1-8 give from one session and those before it."""

    rule: pl.Expr
    action: pl.Expr
    sets: pl.Expr
    reps: pl.Expr
    load: pl.Expr
    target: pl.Expr
    step: pl.Expr


def _step_kg(back: int) -> pl.Expr:
    """The load step in kg, in the unit and on the machine of that session."""
    return (
        pl.when(col("stack_increment_kg", back).is_not_null())
        .then(col("stack_increment_kg", back))
        .when(col("load_unit", back) == "lb")
        .then(pl.col("step_lb_kg"))
        .otherwise(pl.col("step_kg"))
    )


def _prescribe(back: int, depth: int) -> Prescription:
    """Rows 1-8 of the table, as if session `back` were the last."""
    s, r, load = col("sets", back), col("reps", back), col("load", back)
    sets_min, sets_max = pl.col("sets_min"), pl.col("sets_max")
    reps_min, reps_max = pl.col("reps_min"), pl.col("reps_max")
    target = pl.when(pl.col("ladder")).then(sets_max).otherwise(pl.min_horizontal(s, sets_max))
    previous = back + 1
    regressed = (
        _same_load(previous, back)
        & (col("sets", previous) >= s)
        & (col("reps", previous) >= r)
        & ((col("sets", previous) > s) | (col("reps", previous) > r))
    ).fill_null(False)
    confirmed = pl.all_horizontal(
        (pl.lit(m) >= pl.col("confirm"))
        | (
            col("clean", back + m)
            & _same_load(back + m, back)
            & (col("sets", back + m) >= target)
            & (col("reps", back + m) >= reps_max)
        ).fill_null(False)
        for m in range(1, depth - back + 1)
    )
    step = _step_kg(back)
    rows: list[tuple[str, pl.Expr, str, pl.Expr, pl.Expr, pl.Expr]] = [
        # row, when, action, next sets, next reps, next load
        ("1", pl.col("count") - back < pl.col("intro"), "hold", s, r, load),
        ("2", ~col("clean", back), "hold", s, r, load),
        (
            "3",
            regressed,
            "hold",
            col("sets", previous),
            col("reps", previous),
            col("load", previous),
        ),
        ("4", s < sets_min, "raise_sets", sets_min, r.clip(reps_min, reps_max), load),
        (
            "5",
            r < reps_max,
            "raise_reps",
            pl.min_horizontal(s, sets_max),
            pl.min_horizontal(r + pl.col("rep_step"), reps_max),
            load,
        ),
        ("6", pl.col("ladder") & (s < sets_max), "raise_sets", s + 1, reps_min, load),
        ("7", confirmed, "raise_load", target, reps_min, load + step),
    ]
    otherwise = ("8", "hold", target, reps_max, load)

    def pick(slot: int) -> pl.Expr:
        def value(item: str | pl.Expr) -> pl.Expr:
            return pl.lit(item) if isinstance(item, str) else item

        cases = [(row[1], value(row[slot + 1])) for row in rows]
        return first_match(cases, value(otherwise[slot]))

    return Prescription(
        rule=first_match([(row[1], pl.lit(row[0])) for row in rows], pl.lit(otherwise[0])),
        action=pick(1),
        sets=pick(2),
        reps=pick(3),
        load=pick(4),
        target=target,
        step=step,
    )


def _targets(stall: int, depth: int) -> Iterator[pl.Expr]:
    """What the sessions before each of the last `stall` sessions prescribed for it: the
    target of session k (k sessions before the last) as next_sets_{k+1}, ..."""
    for back in range(1, stall + 1):
        given = _prescribe(back, depth)
        yield given.sets.cast(pl.Int64).alias(f"next_sets_{back}")
        yield given.reps.cast(pl.Int64).alias(f"next_reps_{back}")
        yield given.load.cast(pl.Float64).alias(f"next_load_kg_{back}")


def _missed(back: int) -> pl.Expr:
    """Session `back` fell short of its target (_targets). A heavier load is never short, and
    a step back to a lighter load than the session before is never a miss."""
    load, target = col("load", back), col("next_load_kg", back + 1)
    stepped_back = load < col("load", back + 1) - TOLERANCE
    lighter = load < target - TOLERANCE
    at_load = (load - target).abs() <= TOLERANCE
    fewer = (col("sets", back) < col("next_sets", back + 1)) | (
        col("reps", back) < col("next_reps", back + 1)
    )
    return (~stepped_back & (lighter | (at_load & fewer))).fill_null(False)


def _reset() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The step back of rows 0 and 1a: deload_factor x L rounded down to the step in the
    lifter's unit, at reps min; bodyweight drops a set instead."""
    s, sets_min, sets_max = pl.col("sets"), pl.col("sets_min"), pl.col("sets_max")
    per_unit = pl.when(pl.col("load_unit") == "lb").then(pl.lit(LB_TO_KG)).otherwise(pl.lit(1.0))
    step = (
        pl.when(pl.col("stack_increment_kg").is_not_null())
        .then(pl.col("stack_increment_kg") / per_unit)
        .when(pl.col("load_unit") == "lb")
        .then(pl.col("step_lb"))
        .otherwise(pl.col("step_kg"))
    )
    shown = (pl.col("load") / per_unit).round(2)
    lighter = step * (pl.col("deload_factor") * shown / step + 1e-9).floor() * per_unit
    loaded = pl.col("load") > 0
    sets = (
        pl.when(loaded)
        .then(pl.max_horizontal(sets_min, pl.min_horizontal(s, sets_max)))
        .otherwise(pl.max_horizontal(sets_min, pl.min_horizontal(s, sets_max) - 1))
    )
    return sets, pl.col("reps_min"), pl.when(loaded).then(lighter).otherwise(pl.lit(0.0))


def _decide(pairs: pl.DataFrame, depth: int, stall: int) -> pl.DataFrame:
    last = _prescribe(0, depth)
    resumed = (pl.col("break_days") > 0) & (pl.col("gap_days") > pl.col("break_days"))
    stalled = (
        (pl.col("stall_sessions") > 0)
        & (pl.col("count") > pl.col("stall_sessions"))
        & pl.all_horizontal(
            [pl.lit(True)]
            + [(pl.lit(back) >= pl.col("stall_sessions")) | _missed(back) for back in range(stall)]
        )
    )
    rule = (
        pl.when(resumed)
        .then(pl.lit("0"))
        .when(pl.col("count") < pl.col("intro"))
        .then(pl.lit("1"))
        .when(stalled)
        .then(pl.lit("1a"))
        .otherwise(last.rule)
    )
    reset_sets, reset_reps, reset_load = _reset()
    stepping_back = pl.col("rule").is_in(list(STEP_BACK))
    return (
        pairs.with_columns(_targets(stall, depth))
        .with_columns(target=last.target, step=last.step, rule=rule)
        .with_columns(
            action=pl.when(stepping_back)
            .then(pl.col("rule").replace_strict(STEP_BACK, default=None))
            .otherwise(last.action),
            next_sets=pl.when(stepping_back).then(reset_sets).otherwise(last.sets).cast(pl.Int64),
            next_reps=pl.when(stepping_back).then(reset_reps).otherwise(last.reps).cast(pl.Int64),
            next_load_kg=pl.when(stepping_back)
            .then(reset_load)
            .otherwise(last.load)
            .cast(pl.Float64),
        )
    )


def _evidence(depth: int) -> pl.Expr:
    """Dates of the sessions a flag rests on, oldest first."""
    rule = pl.col("rule")
    window = (
        pl.when(rule == "3")
        .then(pl.lit(2))
        .when(rule.is_in(["7", "8"]))
        .then(pl.col("confirm"))
        .when(rule == "1a")
        .then(pl.col("stall_sessions"))
        .otherwise(pl.lit(1))
    )
    dates = [pl.when(pl.lit(k) < window).then(col("session_date", k)) for k in range(depth, -1, -1)]
    return pl.concat_list(dates).list.drop_nulls()


def _progression(pairs: pl.DataFrame, depth: int, stall: int, as_of: date) -> pl.DataFrame:
    decided = _decide(pairs, depth, stall)
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
        reason=reasons.progression(as_of, stall),
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
    e1rm = pl.col("load") * (1 + pl.col("reps") / 30)
    record = (
        pairs.with_columns(e1rm=e1rm)
        .filter(
            (pl.col("load") > 0)
            & (pl.col("e1rm") > pl.col("best_before_e1rm_kg") + TOLERANCE).fill_null(False)
        )
        .with_columns(
            action=pl.lit("record"),
            reason=reasons.record(as_of),
            evidence=pl.concat_list("best_before_date", "session_date").list.unique(
                maintain_order=True
            ),
        )
    )
    return pl.concat(
        [
            frame.select(
                *PAIR,
                kind=pl.lit("advice"),
                action="action",
                # a record names the session that set it; the others are about a pattern
                current_sets=pl.when(pl.col("action") == "record").then(pl.col("sets")),
                current_reps=pl.when(pl.col("action") == "record").then(pl.col("reps")),
                current_load_kg=pl.when(pl.col("action") == "record").then(pl.col("load")),
                load_unit="load_unit",
                reason="reason",
                evidence="evidence",
                program_id="program_id",
            )
            for frame in (often, first, record)
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


def _in_use(programs: ProgramsFile) -> list[Program]:
    """Every program, and every athlete's version of one."""
    merged = [
        programs.program_for(athlete, pid)
        for athlete, by_program in programs.overrides.items()
        for pid in by_program
    ]
    return [*programs.programs.values(), *merged]


def _look_back(programs: ProgramsFile) -> tuple[int, int]:
    """How many sessions before the last the table reads, and the longest stall: judging each
    of the last `stall_sessions` sessions needs rows 3 and 7 as of the session before it."""
    used = _in_use(programs)
    stall = max(p.stall_sessions for p in used)
    depth = max(p.stall_sessions + max(1, p.confirm_load - 1) for p in used)
    return depth, stall


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
    """Flags for every athlete and exercise with a working set with reps on or before `as_of`,
    except those whose last session is more than `dormant_days` before it.

    `relation` names a table or view of `con` with SET_COLUMNS; the result has FLAG_COLUMNS,
    progression flags first.
    """
    depth, stall = _look_back(programs)
    pairs = summarise(
        con, relation, as_of, depth, timezones or {}, default_timezone, _first_in_session(programs)
    )
    gap = (pl.lit(as_of) - pl.col("session_date")).dt.total_days()
    live = (
        attach(pairs, programs)
        .with_columns(gap_days=gap)
        .filter((pl.col("dormant_days") == 0) | (pl.col("gap_days") <= pl.col("dormant_days")))
    )
    if live.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    with_params = live.with_columns(
        (col("max_rpe", k) < pl.col("rpe_cap")).fill_null(True).alias(_name("clean", k))
        for k in range(depth + 1)
    )
    flags = pl.concat(
        [_progression(with_params, depth, stall, as_of), _advice(with_params, as_of)],
        how="diagonal_relaxed",
    )
    return flags.select(pl.col(name).cast(dtype) for name, dtype in FLAG_SCHEMA.items()).sort(
        ["athlete_id", "exercise_id", "kind", "action"], descending=[False, False, True, False]
    )
