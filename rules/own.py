"""The lifter's own scheme (`scheme = "own"`, docs/rules.md): sets and reps learned from the
last `scheme_sessions` sessions, and one small step at a time from what was done.

The scheme is learned from the teaching sessions of the window: neither a bad day (a session
that regressed) nor a light day (a top load more than 15% under the window's heaviest) teaches.
"""

from __future__ import annotations

import polars as pl

from rules.history import (
    col,
    is_loaded,
    name,
    one_step,
    regressed,
    reset_load,
    same_load,
    step_kg,
)
from schemas.vectorized import first_match

LIGHT_DAY = 0.15
# Own's decisions and their actions; "0", "2" and "3" are the fixed table's rows of the same
# meaning (a break, a session not clean, a bad day), and share their reasons.
ACTIONS = {
    "0": "resume",
    "learn": "hold",
    "2": "hold",
    "3": "hold",
    "stall": "deload",
    "short": "hold",
    "bodyweight": "raise_reps",
    "reps": "raise_reps",
    "load": "raise_load",
    "big_step": "raise_reps",
    "hold": "hold",
}


def _teaching(window: int) -> list[pl.Expr]:
    """teach, teach_1, ...: whether each of the last `window` sessions teaches the scheme."""
    inside = [
        (pl.lit(k) < pl.col("scheme_sessions")) & col("load", k).is_not_null()
        for k in range(window)
    ]
    heaviest = pl.max_horizontal(pl.when(inside[k]).then(col("load", k)) for k in range(window))
    light = [(heaviest - col("load", k)) > LIGHT_DAY * heaviest.abs() + 1e-9 for k in range(window)]
    return [
        (inside[k] & ~regressed(k) & ~light[k]).fill_null(False).alias(name("teach", k))
        for k in range(window)
    ]


def _counts(window: int) -> list[pl.Expr]:
    """For each teaching session, how many teaching sessions share its number of top sets
    (`sets_count`, `sets_count_1`, ...) and its reps (`reps_count`, ...)."""
    return [
        pl.when(col("teach", k))
        .then(
            pl.sum_horizontal(
                (col("teach", j) & (col(field, j) == col(field, k))).cast(pl.Int64)
                for j in range(window)
            )
        )
        .otherwise(None)
        .alias(name(f"{field}_count", k))
        for field in ("sets", "reps")
        for k in range(window)
    ]


def _tallies(window: int) -> list[pl.Expr]:
    """The teaching sessions (`teaching`), the highest count of a number of sets and of reps
    (`most_sets`, `most_reps`), how many sessions hold the highest count of reps (`holders`),
    and the fewest and the most reps they did (`low`, `high`)."""
    rep_counts = [col("reps_count", k) for k in range(window)]
    taught = [pl.when(col("teach", k)).then(col("reps", k)) for k in range(window)]
    most_reps = pl.max_horizontal(rep_counts)
    return [
        pl.sum_horizontal(col("teach", k).cast(pl.Int64) for k in range(window)).alias("teaching"),
        pl.max_horizontal(col("sets_count", k) for k in range(window)).alias("most_sets"),
        most_reps.alias("most_reps"),
        pl.sum_horizontal((c == most_reps).cast(pl.Int64) for c in rep_counts).alias("holders"),
        pl.min_horizontal(taught).alias("low"),
        pl.max_horizontal(taught).alias("high"),
    ]


def _scheme(window: int) -> list[pl.Expr]:
    """The lifter's sets T (`own_sets`), the bottom and top of their reps (`reps_low`,
    `reps_high`) and whether the reps are fixed (`fixed_reps`), from the teaching sessions."""
    # the most common number of top sets; on a tie, the most recent session's
    own_sets = first_match(
        [(col("sets_count", k) == pl.col("most_sets"), col("sets", k)) for k in range(window)],
        pl.lit(None, pl.Int64),
    )
    common = first_match(
        [(col("reps_count", k) == pl.col("most_reps"), col("reps", k)) for k in range(window)],
        pl.lit(None, pl.Int64),
    )
    most, high = pl.col("most_reps"), pl.col("high")
    # one value of R is the most common (only its sessions hold the top count), for at least
    # half of the sessions, and no session did more than one rep over it
    fixed = (pl.col("holders") == most) & (2 * most >= pl.col("teaching")) & (high <= common + 1)
    return [
        own_sets.alias("own_sets"),
        fixed.fill_null(False).alias("fixed_reps"),
        pl.when(fixed).then(common).otherwise(pl.col("low")).alias("reps_low"),
        pl.when(fixed).then(common).otherwise(high).alias("reps_high"),
    ]


def _stalled(stall: int) -> pl.Expr:
    """The last `stall_sessions` + 1 sessions at one top load, each below the top of the reps,
    and none of the last `stall_sessions` better than the one before it (more reps or sets)."""
    count = pl.col("stall_sessions")
    held = [
        (pl.lit(k) > count) | (same_load(k, 0) & (col("reps", k) < pl.col("reps_high")))
        for k in range(stall + 1)
    ]
    flat = [
        (pl.lit(k) >= count)
        | ~((col("reps", k) > col("reps", k + 1)) | (col("sets", k) > col("sets", k + 1)))
        for k in range(stall)
    ]
    return (
        (count > 0)
        & (pl.col("count") > count)
        & is_loaded()
        & pl.all_horizontal([pl.lit(True), *held, *flat]).fill_null(False)
    )


def _confirmed(depth: int) -> pl.Expr:
    """Each of the last `confirm_load` sessions clean, at the last top load, with at least the
    lifter's sets and the top of their reps."""
    return pl.all_horizontal(
        (pl.lit(m) >= pl.col("confirm"))
        | (
            col("clean", m)
            & same_load(m, 0)
            & (col("sets", m) >= pl.col("own_sets"))
            & (col("reps", m) >= pl.col("reps_high"))
        ).fill_null(False)
        for m in range(depth + 1)
    )


def _rule(depth: int, stall: int) -> pl.Expr:
    """Which of own's decisions applies, in DESIGN.md's order (ACTIONS names them)."""
    s, r = pl.col("sets"), pl.col("reps")
    bodyweight = ~is_loaded() & ~pl.col("loaded_before")
    confirmed = _confirmed(depth)
    cases = [
        ((pl.col("break_days") > 0) & (pl.col("gap_days") > pl.col("break_days")), "0"),
        (pl.col("teaching") < 2, "learn"),
        (~pl.col("clean"), "2"),
        (regressed(0), "3"),
        (_stalled(stall), "stall"),
        (s < pl.col("own_sets"), "short"),
        (bodyweight, "bodyweight"),
        (r < pl.col("reps_high"), "reps"),
        (confirmed & one_step(pl.col("step"), pl.col("load")), "load"),
        (confirmed, "big_step"),
    ]
    return first_match([(when, pl.lit(rule)) for when, rule in cases], pl.lit("hold"))


def _next() -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The next prescription (sets, reps, load) by decision."""
    s, r, load, rule = pl.col("sets"), pl.col("reps"), pl.col("load"), pl.col("rule")
    loaded = is_loaded()
    # the reset: neither sets, reps nor load go up
    reset = (
        pl.min_horizontal(pl.col("own_sets"), s),
        pl.when(loaded).then(pl.min_horizontal(r, pl.col("reps_low"))).otherwise(r),
        pl.when(loaded).then(reset_load()).otherwise(pl.lit(0.0)),
    )
    heavier = load + pl.col("step")
    rows = {
        "0": reset,
        "stall": reset,
        "3": (col("sets", 1), col("reps", 1), col("load", 1)),
        "short": (pl.min_horizontal(pl.col("own_sets"), s + 1), r, load),
        "bodyweight": (s, r + 1, load),
        "reps": (s, r + 1, load),
        "big_step": (s, r + 1, load),
        # less help, down to none, for an assisted exercise
        "load": (
            pl.col("own_sets"),
            pl.col("reps_low"),
            pl.when(load < 0).then(pl.min_horizontal(heavier, 0.0)).otherwise(heavier),
        ),
    }

    def pick(slot: int) -> pl.Expr:
        cases = [(rule == decision, value[slot]) for decision, value in rows.items()]
        return first_match(cases, (s, r, load)[slot])

    return pick(0), pick(1), pick(2)


def _rests_on() -> pl.Expr:
    """How many of the last sessions a flag rests on, by its decision."""
    rule = pl.col("rule")
    return (
        pl.when(rule == "3")
        .then(pl.lit(2))
        .when(rule == "stall")
        .then(pl.col("stall_sessions") + 1)
        .when(rule.is_in(["load", "big_step"]))
        .then(pl.col("confirm"))
        .otherwise(pl.lit(1))
    )


def decide(pairs: pl.DataFrame, depth: int, stall: int, window: int) -> pl.DataFrame:
    """The progression flag's decision (`rule`), action, next prescription and the number of
    last sessions it rests on (`rests_on`), for pairs that follow their own scheme; with the
    scheme learned (`own_sets`, `reps_low`, `reps_high`, `fixed_reps`, `teaching`)."""
    sets, reps, load = _next()
    return (
        pairs.with_columns(_teaching(window))
        .with_columns(_counts(window))
        .with_columns(_tallies(window))
        .with_columns(_scheme(window))
        .with_columns(step=step_kg(0))
        .with_columns(rule=_rule(depth, stall))
        .with_columns(
            action=pl.col("rule").replace_strict(ACTIONS),
            next_sets=sets.cast(pl.Int64),
            next_reps=reps.cast(pl.Int64),
            next_load_kg=load.cast(pl.Float64),
            rests_on=_rests_on(),
        )
    )
