"""The last sessions of an athlete and exercise as columns (`load`, `load_1`, ... newest first),
and what both schemes read from them: the same load, a regressed session, the load step and the
reset's load.

Loads are mirrored for an assisted exercise (load = -help, sessions.py), so that heavier is
always better here: less help is progress, and more help is a step back.
"""

from __future__ import annotations

import polars as pl

from schemas.set_row import LB_TO_KG

TOLERANCE = 0.01
# A one-step raise is at most this share of the load, or ONE_STEP_KG, whichever is more.
ONE_STEP_SHARE = 0.1
ONE_STEP_KG = 5.0


def name(field: str, back: int) -> str:
    """The column of a field of the session `back` sessions before the last: `load`,
    `load_1`, ..."""
    return f"{field}_{back}" if back else field


def col(field: str, back: int) -> pl.Expr:
    return pl.col(name(field, back))


def same_load(a: int, b: int) -> pl.Expr:
    return (col("load", a) - col("load", b)).abs() <= TOLERANCE


def regressed(back: int) -> pl.Expr:
    """Session `back` fell short of the one before it at the same top load: at most as many
    top sets and reps, and fewer of one (a bad day)."""
    s, r, before = col("sets", back), col("reps", back), back + 1
    return (
        same_load(before, back)
        & (col("sets", before) >= s)
        & (col("reps", before) >= r)
        & ((col("sets", before) > s) | (col("reps", before) > r))
    ).fill_null(False)


def step_kg(back: int) -> pl.Expr:
    """The load step in kg, in the unit and on the machine of that session."""
    return (
        pl.when(col("stack_increment_kg", back).is_not_null())
        .then(col("stack_increment_kg", back))
        .when(col("load_unit", back) == "lb")
        .then(pl.col("step_lb_kg"))
        .otherwise(pl.col("step_kg"))
    )


def one_step(step: pl.Expr, load: pl.Expr) -> pl.Expr:
    """Whether a raise of `step` kg from `load` is one small step: at most 10% or 5 kg."""
    return step <= pl.max_horizontal(ONE_STEP_SHARE * load.abs(), pl.lit(ONE_STEP_KG)) + TOLERANCE


def is_loaded() -> pl.Expr:
    """The last session had load (or help, for an assisted exercise)."""
    return pl.col("load").abs() > TOLERANCE


def reset_load() -> pl.Expr:
    """The load of the reset (rows 0 and 1a): `deload_factor` x L rounded down to the step in the
    lifter's unit, L written to 0.01 in that unit first. Mirrored for an assisted exercise: the
    help grows by the same share, rounded up to the step."""
    per_unit = pl.when(pl.col("load_unit") == "lb").then(pl.lit(LB_TO_KG)).otherwise(pl.lit(1.0))
    step = (
        pl.when(pl.col("stack_increment_kg").is_not_null())
        .then(pl.col("stack_increment_kg") / per_unit)
        .when(pl.col("load_unit") == "lb")
        .then(pl.col("step_lb"))
        .otherwise(pl.col("step_kg"))
    )
    shown = (pl.col("load").abs() / per_unit).round(2)
    factor = pl.col("deload_factor")
    lighter = step * (factor * shown / step + 1e-9).floor()
    more_help = step * ((2 - factor) * shown / step - 1e-9).ceil()
    return pl.when(pl.col("load") < 0).then(-more_help).otherwise(lighter) * per_unit
