"""One-sentence reasons a lifter understands, in the unit they log in."""

from __future__ import annotations

from datetime import date

import polars as pl

from schemas.set_row import LB_TO_KG
from schemas.vectorized import first_match


def number(value: pl.Expr) -> pl.Expr:
    """At most two decimals, without trailing zeros: 2.5, 140, 63.5."""
    return value.round(2).cast(pl.String).str.replace(r"(\.\d*?)0+$", "${1}").str.strip_suffix(".")


def load_text(kg: pl.Expr) -> pl.Expr:
    unit = pl.col("load_unit")
    shown = pl.when(unit == "lb").then(kg / LB_TO_KG).otherwise(kg)
    return pl.concat_str([number(shown), unit], separator=" ")


def prescription(sets: pl.Expr, reps: pl.Expr, kg: pl.Expr) -> pl.Expr:
    """`3×10 @ 40 kg`, or `2×10` for bodyweight only."""
    scheme = pl.format("{}×{}", sets, reps)
    return (
        pl.when(kg > 0.001)
        .then(pl.concat_str([scheme, pl.lit(" @ "), load_text(kg)]))
        .otherwise(scheme)
    )


def dates(column: str) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().dt.strftime("%b %-d")).list.join(", ")


def progression() -> pl.Expr:
    """The reason of a progression flag, by the decision-table row in `rule`."""
    current = prescription(pl.col("sets"), pl.col("reps"), pl.col("load"))
    previous = prescription(pl.col("sets_1"), pl.col("reps_1"), pl.col("load_1"))
    following = prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg"))
    step = load_text(pl.col("step"))
    restart = pl.format("{}×{}", "next_sets", "next_reps")
    add_load = (
        pl.when((pl.col("load") <= 0.001) & (pl.col("load_cue") != ""))
        .then(pl.format("{}, {}, and start again at {}", pl.col("load_cue"), step, restart))
        .otherwise(pl.format("add {} and start again at {}", step, following))
    )
    sessions = (
        pl.when(pl.col("confirm") == 1)
        .then(pl.format("in the last session ({})", dates("evidence")))
        .otherwise(pl.format("in each of the last {} sessions ({})", "confirm", dates("evidence")))
    )
    top_of_range = pl.format("{}×{}", "target", "reps_max")
    texts = {
        1: pl.format(
            "Session {} of {} introductory sessions: stay at {} while the movement settles in.",
            "count",
            "intro",
            current,
        ),
        2: pl.format(
            "A top set reached RPE {} (the cap is {}): repeat {} until it feels easier.",
            number(pl.col("max_rpe")),
            number(pl.col("rpe_cap")),
            current,
        ),
        3: pl.format(
            "{} fell short of {} at the same load: repeat {} before progressing.",
            current,
            previous,
            previous,
        ),
        4: pl.format(
            "{} working {} below the program's {}: do {}.",
            "sets",
            pl.when(pl.col("sets") == 1).then(pl.lit("set is")).otherwise(pl.lit("sets are")),
            "sets_min",
            following,
        ),
        5: pl.format("{} done cleanly: add a rep, {}.", current, following),
        6: pl.format(
            "{} reached the top of the rep range: add a set and start again at {}.",
            current,
            following,
        ),
        7: pl.format("{} {}: {}.", top_of_range, sessions, add_load),
        8: pl.format(
            "{} is the top of the range: one more clean session at {} before adding load.",
            current,
            prescription(pl.col("target"), pl.col("reps_max"), pl.col("load")),
        ),
    }
    return first_match(
        [(pl.col("rule") == rule, text) for rule, text in texts.items()], pl.lit(None, pl.String)
    )


def train_more_often(as_of: date, days: int) -> pl.Expr:
    return pl.format(
        "{} sessions in the {} days to {}, where the program asks for {} a week: "
        "train this exercise more often.",
        pl.col("recent_dates").list.len(),
        pl.lit(days),
        pl.lit(as_of.strftime("%b %-d")),
        "per_week",
    )


def do_first() -> pl.Expr:
    return pl.format(
        "On {} {} came before it: do it at the start of the workout, while you are fresh.",
        pl.col("session_date").dt.strftime("%b %-d"),
        "came_after_exercise",
    )
