"""The fixed decision table (docs/rules.md), for programs with `scheme = "fixed"`.

Rows 1-8 are expressions over the columns of one session and those before it, so the same
expressions give the prescription as of each of the last few sessions: row 1a (deload) asks
whether each of the last `stall_sessions` sessions missed the prescription the sessions before it
gave, a fixed look-back with no recursion.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from rules.history import TOLERANCE, col, is_loaded, regressed, reset_load, same_load, step_kg
from schemas.vectorized import first_match

# The rows of the decision table that step back, and what they are called.
STEP_BACK = {"0": "resume", "1a": "deload"}


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


def _prescribe(back: int, depth: int) -> Prescription:
    """Rows 1-8 of the table, as if session `back` were the last."""
    s, r, load = col("sets", back), col("reps", back), col("load", back)
    sets_min, sets_max = pl.col("sets_min"), pl.col("sets_max")
    reps_min, reps_max = pl.col("reps_min"), pl.col("reps_max")
    target = pl.when(pl.col("ladder")).then(sets_max).otherwise(pl.min_horizontal(s, sets_max))
    previous = back + 1
    confirmed = pl.all_horizontal(
        (pl.lit(m) >= pl.col("confirm"))
        | (
            col("clean", back + m)
            & same_load(back + m, back)
            & (col("sets", back + m) >= target)
            & (col("reps", back + m) >= reps_max)
        ).fill_null(False)
        for m in range(1, depth - back + 1)
    )
    step = step_kg(back)
    rows: list[tuple[str, pl.Expr, str, pl.Expr, pl.Expr, pl.Expr]] = [
        # row, when, action, next sets, next reps, next load
        ("1", pl.col("count") - back < pl.col("intro"), "hold", s, r, load),
        ("2", ~col("clean", back), "hold", s, r, load),
        (
            "3",
            regressed(back),
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
    """The step back of rows 0 and 1a: the reset load at reps min; bodyweight drops a set
    instead."""
    s, sets_min, sets_max = pl.col("sets"), pl.col("sets_min"), pl.col("sets_max")
    loaded = is_loaded()
    sets = (
        pl.when(loaded)
        .then(pl.max_horizontal(sets_min, pl.min_horizontal(s, sets_max)))
        .otherwise(pl.max_horizontal(sets_min, pl.min_horizontal(s, sets_max) - 1))
    )
    return sets, pl.col("reps_min"), pl.when(loaded).then(reset_load()).otherwise(pl.lit(0.0))


def _rests_on() -> pl.Expr:
    """How many of the last sessions a flag rests on, by its row."""
    rule = pl.col("rule")
    return (
        pl.when(rule == "3")
        .then(pl.lit(2))
        .when(rule.is_in(["7", "8"]))
        .then(pl.col("confirm"))
        .when(rule == "1a")
        .then(pl.col("stall_sessions"))
        .otherwise(pl.lit(1))
    )


def decide(pairs: pl.DataFrame, depth: int, stall: int) -> pl.DataFrame:
    """The progression flag's row (`rule`), action, next prescription and the number of last
    sessions it rests on (`rests_on`), for pairs that follow a fixed program."""
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
    reset_sets, reset_reps, reset_load_kg = _reset()
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
            .then(reset_load_kg)
            .otherwise(last.load)
            .cast(pl.Float64),
            rests_on=_rests_on(),
        )
    )
