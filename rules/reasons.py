"""One-sentence reasons a lifter understands, in the unit they log in."""

from __future__ import annotations

from datetime import date

import polars as pl

from schemas.set_row import LB_TO_KG
from schemas.vectorized import first_match


def number(value: pl.Expr, decimals: int = 2) -> pl.Expr:
    """At most two decimals, without trailing zeros: 2.5, 140, 63.5."""
    text = value.round(decimals).cast(pl.String)
    return text.str.replace(r"(\.\d*?)0+$", "${1}").str.strip_suffix(".")


def load_text(kg: pl.Expr, decimals: int = 2) -> pl.Expr:
    unit = pl.col("load_unit")
    shown = pl.when(unit == "lb").then(kg / LB_TO_KG).otherwise(kg)
    return pl.concat_str([number(shown, decimals), unit], separator=" ")


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


NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def day(column: pl.Expr, as_of: date) -> pl.Expr:
    """`Oct 15`, or `Oct 15, 2024` in another year than the as-of date's."""
    return (
        pl.when(column.dt.year() == as_of.year)
        .then(column.dt.strftime("%b %-d"))
        .otherwise(column.dt.strftime("%b %-d, %Y"))
    )


def ago(days: pl.Expr) -> pl.Expr:
    """`10 days ago`, `5 weeks ago`, `4 months ago`, `3 years ago`, as a coach would round."""
    return (
        pl.when(days < 14)
        .then(pl.format("{} days ago", days))
        .when(days < 63)
        .then(pl.format("{} weeks ago", (days / 7).round(0).cast(pl.Int64)))
        .when(days < 730)
        .then(pl.format("{} months ago", (days / 30.44).round(0).cast(pl.Int64)))
        .otherwise(pl.format("{} years ago", (days / 365.25).round(0).cast(pl.Int64)))
    )


def missed_targets(stall: int) -> pl.Expr:
    """`Nov 10: 3×11, Nov 13: 3×10, Nov 17: 3×10 @ 60 kg`: each of the last `stall_sessions`
    sessions, oldest first, with the target it missed; a load shared by all is named once."""
    count = pl.col("stall_sessions")
    shared = pl.all_horizontal(
        [pl.lit(True)]
        + [
            (pl.lit(k) >= count)
            | ((pl.col(f"next_load_kg_{k + 1}") - pl.col("next_load_kg_1")).abs() <= 0.01)
            for k in range(1, stall)
        ]
    )
    items = []
    for k in range(stall - 1, -1, -1):
        sets, reps = pl.col(f"next_sets_{k + 1}"), pl.col(f"next_reps_{k + 1}")
        target = (
            pl.when(shared & (k > 0))
            .then(pl.format("{}×{}", sets, reps))
            .otherwise(prescription(sets, reps, pl.col(f"next_load_kg_{k + 1}")))
        )
        session = pl.col(f"session_date_{k}" if k else "session_date")
        text = pl.concat_str([session.dt.strftime("%b %-d"), pl.lit(": "), target])
        items.append(pl.when(pl.lit(k) < count).then(text))
    if not items:  # no program looks for stalls
        return pl.lit(None, pl.String)
    return pl.concat_list(items).list.drop_nulls().list.join(", ")


def _deload(stall: int, following: pl.Expr) -> pl.Expr:
    count = pl.col("stall_sessions")
    running = (
        pl.when(count == 1)
        .then(pl.lit("in the last session"))
        .otherwise(
            pl.format(
                "{} sessions running",
                count.replace_strict(dict(enumerate(NUMBERS, start=1)), default=None),
            )
        )
    )
    off = ((1 - pl.col("deload_factor")) * 100).round(0).cast(pl.Int64)
    step_back = (
        pl.when((pl.col("load") > 0) & (off > 0))
        .then(pl.format("take {}% off, {}, and build back up", off, following))
        .when((pl.col("load") <= 0) & (pl.col("next_sets") < pl.col("sets")))
        .then(pl.format("one set fewer, {}, and build back up", following))
        .otherwise(pl.format("start again at {} and build back up", following))
    )
    return pl.format("Missed the target {} ({}): {}.", running, missed_targets(stall), step_back)


def record(as_of: date) -> pl.Expr:
    """`New best: 3×8 @ 100 kg, an estimated 1RM of 126.7 kg; the best before was 123.3 kg on
    Oct 30.`"""
    return pl.format(
        "New best: {}, an estimated 1RM of {}; the best before was {} on {}.",
        prescription(pl.col("sets"), pl.col("reps"), pl.col("load")),
        load_text(pl.col("e1rm"), decimals=1),
        load_text(pl.col("best_before_e1rm_kg"), decimals=1),
        day(pl.col("best_before_date"), as_of),
    )


def progression(as_of: date, stall: int) -> pl.Expr:
    """The reason of a progression flag, by the decision-table row in `rule`; `stall` is the
    longest `stall_sessions` of any program."""
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
        "0": pl.format(
            "Last trained {} ({}): come back at {}.",
            ago(pl.col("gap_days")),
            day(pl.col("session_date"), as_of),
            following,
        ),
        "1a": _deload(stall, following),
        "1": pl.format(
            "Session {} of {} introductory sessions: stay at {} while the movement settles in.",
            "count",
            "intro",
            current,
        ),
        "2": pl.format(
            "A top set reached RPE {} (the cap is {}): repeat {} until it feels easier.",
            number(pl.col("max_rpe")),
            number(pl.col("rpe_cap")),
            current,
        ),
        "3": pl.format(
            "{} fell short of {} at the same load: repeat {} before progressing.",
            current,
            previous,
            previous,
        ),
        "4": pl.format(
            "{} working {} below the program's {}: do {}.",
            "sets",
            pl.when(pl.col("sets") == 1).then(pl.lit("set is")).otherwise(pl.lit("sets are")),
            "sets_min",
            following,
        ),
        "5": pl.format("{} done cleanly: add a rep, {}.", current, following),
        "6": pl.format(
            "{} reached the top of the rep range: add a set and start again at {}.",
            current,
            following,
        ),
        "7": pl.format("{} {}: {}.", top_of_range, sessions, add_load),
        "8": pl.format(
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
