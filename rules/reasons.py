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
    """`63.5 kg`, `140 lb`; the size of a mirrored load (an assisted exercise's help)."""
    unit = pl.col("load_unit")
    shown = pl.when(unit == "lb").then(kg.abs() / LB_TO_KG).otherwise(kg.abs())
    return pl.concat_str([number(shown, decimals), unit], separator=" ")


def prescription(
    sets: pl.Expr, reps: pl.Expr, kg: pl.Expr, assisted: pl.Expr | None = None
) -> pl.Expr:
    """`3×10 @ 40 kg`, or `2×10` for bodyweight only; on an assisted exercise `3×8 with 20 kg
    assistance` or `3×8 without assistance`."""
    scheme = pl.format("{}×{}", sets, reps)
    helped = pl.lit(False) if assisted is None else assisted
    return (
        pl.when(helped & (kg.abs() > 0.001))
        .then(pl.concat_str([scheme, pl.lit(" with "), load_text(kg), pl.lit(" assistance")]))
        .when(helped)
        .then(pl.concat_str([scheme, pl.lit(" without assistance")]))
        .when(kg > 0.001)
        .then(pl.concat_str([scheme, pl.lit(" @ "), load_text(kg)]))
        .otherwise(scheme)
    )


def done(sets: pl.Expr, reps: pl.Expr, kg: pl.Expr) -> pl.Expr:
    """A prescription or an achievement of the rules' frame, which knows whether the exercise
    is assisted."""
    return prescription(sets, reps, kg, pl.col("assisted"))


NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")


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


def _in_words(count: pl.Expr) -> pl.Expr:
    return count.replace_strict(dict(enumerate(NUMBERS, start=1)), default=None)


def missed_targets(stall: int, as_of: date) -> pl.Expr:
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
            .otherwise(done(sets, reps, pl.col(f"next_load_kg_{k + 1}")))
        )
        session = pl.col(f"session_date_{k}" if k else "session_date")
        text = pl.concat_str([day(session, as_of), pl.lit(": "), target])
        items.append(pl.when(pl.lit(k) < count).then(text))
    if not items:  # no program looks for stalls
        return pl.lit(None, pl.String)
    return pl.concat_list(items).list.drop_nulls().list.join(", ")


def _sessions_done(count: pl.Expr, depth: int, as_of: date) -> pl.Expr:
    """What each of the last `count` sessions (all at the last top load) achieved, oldest
    first: `Nov 16: 5×6, Nov 19: 5×5 @ 100 kg`; or, when they all achieved the same, `5×5 in
    each of the last 2 sessions (Nov 16, Nov 19)`."""
    same = pl.all_horizontal(
        [pl.lit(True)]
        + [
            (pl.lit(k) >= count)
            | ((pl.col(f"sets_{k}") == pl.col("sets")) & (pl.col(f"reps_{k}") == pl.col("reps")))
            for k in range(1, depth + 1)
        ]
    )
    items = [
        pl.when(pl.lit(k) < count).then(
            pl.format(
                "{}: {}×{}",
                day(pl.col(f"session_date_{k}"), as_of),
                pl.col(f"sets_{k}"),
                pl.col(f"reps_{k}"),
            )
        )
        for k in range(depth, 0, -1)
    ]
    last = pl.format("{}: {}", day(pl.col("session_date"), as_of), _current())
    listed = pl.concat_list([*items, last]).list.drop_nulls().list.join(", ")
    days = pl.concat_list(
        [pl.when(pl.lit(k) < count).then(pl.col(f"session_date_{k}")) for k in range(depth, 0, -1)]
        + [pl.col("session_date")]
    ).list.drop_nulls()
    shown = days.list.eval(day(pl.element(), as_of)).list.join(", ")
    scheme = pl.format("{}×{}", "sets", "reps")
    return (
        pl.when(count == 1)
        .then(pl.format("{} in the last session ({})", scheme, shown))
        .when(same)
        .then(pl.format("{} in each of the last {} sessions ({})", scheme, count, shown))
        .otherwise(listed)
    )


def _current() -> pl.Expr:
    return done(pl.col("sets"), pl.col("reps"), pl.col("load"))


def _following() -> pl.Expr:
    return done(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg"))


def _step_back(following: pl.Expr) -> pl.Expr:
    """`take 10% off, 3×8 @ 52.5 kg, and build back up`, and its mirror for more help."""
    off = ((1 - pl.col("deload_factor")) * 100).round(0).cast(pl.Int64)
    return (
        pl.when((pl.col("load") > 0) & (off > 0))
        .then(pl.format("take {}% off, {}, and build back up", off, following))
        .when((pl.col("load") < 0) & (off > 0))
        .then(pl.format("take {}% more assistance, {}, and build back up", off, following))
        .when((pl.col("load") == 0) & (pl.col("next_sets") < pl.col("sets")))
        .then(pl.format("one set fewer, {}, and build back up", following))
        .otherwise(pl.format("start again at {} and build back up", following))
    )


def _deload(stall: int, following: pl.Expr, as_of: date) -> pl.Expr:
    count = pl.col("stall_sessions")
    running = (
        pl.when(count == 1)
        .then(pl.lit("in the last session"))
        .otherwise(pl.format("{} sessions running", _in_words(count)))
    )
    return pl.format(
        "Missed the target {} ({}): {}.",
        running,
        missed_targets(stall, as_of),
        _step_back(following),
    )


def record(as_of: date) -> pl.Expr:
    """`New best: 3×8 @ 100 kg, an estimated 1RM of 126.7 kg; the best before was 123.3 kg on
    Oct 30.`; on an assisted exercise, the least help yet."""
    return (
        pl.when(pl.col("assisted"))
        .then(
            pl.format(
                "New best: {}, the least assistance yet; the least before was {} on {}.",
                _current(),
                load_text(pl.col("best_before_kg")),
                day(pl.col("best_before_date"), as_of),
            )
        )
        .otherwise(
            pl.format(
                "New best: {}, an estimated 1RM of {}; the best before was {} on {}.",
                _current(),
                load_text(pl.col("e1rm"), decimals=1),
                load_text(pl.col("best_before_kg"), decimals=1),
                day(pl.col("best_before_date"), as_of),
            )
        )
    )


def _adding_load() -> pl.Expr:
    return (
        pl.when(pl.col("load") < 0)
        .then(pl.lit("taking away assistance"))
        .otherwise(pl.lit("adding load"))
    )


def _shared(as_of: date) -> dict[str, pl.Expr]:
    """The reasons both schemes give: a break, a session that was not clean, a bad day."""
    previous = done(pl.col("sets_1"), pl.col("reps_1"), pl.col("load_1"))
    return {
        "0": pl.format(
            "Last trained {} ({}): come back at {}.",
            ago(pl.col("gap_days")),
            day(pl.col("session_date"), as_of),
            _following(),
        ),
        "2": pl.format(
            "A top set reached RPE {} (the cap is {}): repeat {} until it feels easier.",
            number(pl.col("max_rpe")),
            number(pl.col("rpe_cap")),
            _current(),
        ),
        "3": pl.format(
            "{} fell short of {} at the same load: repeat {} before progressing.",
            _current(),
            previous,
            previous,
        ),
    }


def _by_rule(texts: dict[str, pl.Expr]) -> pl.Expr:
    return first_match(
        [(pl.col("rule") == rule, text) for rule, text in texts.items()], pl.lit(None, pl.String)
    )


def fixed(as_of: date, stall: int, depth: int) -> pl.Expr:
    """The reason of a fixed program's progression flag, by the decision-table row in `rule`;
    `stall` is the longest `stall_sessions` of any program."""
    current, following = _current(), _following()
    step = load_text(pl.col("step"))
    restart = pl.format("{}×{}", "next_sets", "next_reps")
    add_load = (
        pl.when((pl.col("load") == 0) & (pl.col("load_cue") != ""))
        .then(pl.format("{}, {}, and start again at {}", pl.col("load_cue"), step, restart))
        .when(pl.col("load") < 0)
        .then(pl.format("take {} less assistance and start again at {}", step, following))
        .otherwise(pl.format("add {} and start again at {}", step, following))
    )
    texts = _shared(as_of) | {
        "1a": _deload(stall, following, as_of),
        "1": pl.format(
            "Session {} of {} introductory sessions: stay at {} while the movement settles in.",
            "count",
            "intro",
            current,
        ),
        "4": pl.format(
            "{} top {} below the program's {}: do {}.",
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
        "7": pl.format("{}: {}.", _sessions_done(pl.col("confirm"), depth, as_of), add_load),
        "8": pl.format(
            "{} is the top of the range: one more clean session at {} before {}.",
            current,
            following,
            _adding_load(),
        ),
    }
    return _by_rule(texts)


def own(as_of: date, depth: int) -> pl.Expr:
    """The reason of a progression flag of the lifter's own scheme, by its decision in `rule`
    (rules.own); forward decisions say to keep the lighter sets of the last session."""
    current, following = _current(), _following()
    change = load_text(pl.col("next_load_kg") - pl.col("load"))
    add_load = (
        pl.when(pl.col("load") >= 0)
        .then(pl.format("add {}, {}", change, following))
        .when(pl.col("next_load_kg") < 0)
        .then(pl.format("take {} less assistance, {}", change, following))
        .otherwise(pl.format("go without assistance, {}", following))
    )
    added_rep = pl.format("{} done cleanly: add a rep, {}.", current, following)
    texts = _shared(as_of) | {
        "learn": pl.when(pl.col("count") < 2)
        .then(pl.format("Not enough sessions yet to learn your sets and reps: repeat {}.", current))
        .otherwise(
            pl.format(
                "Too few of your last sessions to learn your sets and reps from (bad days and "
                "light days do not count): repeat {}.",
                current,
            )
        ),
        "stall": pl.format(
            "{}: no progress at {} in {} sessions; {}.",
            _sessions_done(pl.col("stall_sessions") + 1, depth, as_of),
            pl.when(pl.col("load") < 0)
            .then(pl.concat_str([load_text(pl.col("load")), pl.lit(" assistance")]))
            .otherwise(load_text(pl.col("load"))),
            _in_words(pl.col("stall_sessions") + 1),
            _step_back(following),
        ),
        "short": pl.format(
            "{}, where you usually do {} sets: add one set, {}.", current, "own_sets", following
        ),
        "bodyweight": added_rep,
        "reps": added_rep,
        "load": pl.format("{}: {}.", _sessions_done(pl.col("confirm"), depth, as_of), add_load),
        "big_step": pl.format(
            "{} is the top of your reps, but the next step, {}, is more than 10% of the load: "
            "add a rep, {}.",
            current,
            load_text(pl.col("step")),
            following,
        ),
        "hold": pl.format(
            "{} is the top of your reps: one more clean session at {} before {}.",
            current,
            following,
            _adding_load(),
        ),
    }
    keep = (
        pl.when((pl.col("lighter") == 0) | pl.col("rule").is_in(["0", "stall"]))
        .then(pl.lit("."))
        .when(pl.col("ramped"))
        .then(pl.lit("; keep your lighter sets as they were."))
        .otherwise(pl.lit("; keep your back-off sets as they were."))
    )
    return pl.concat_str([_by_rule(texts).str.strip_suffix("."), keep])


def train_more_often(as_of: date, days: int) -> pl.Expr:
    return pl.format(
        "{} sessions in the {} days to {}, where the program asks for {} a week: "
        "train this exercise more often.",
        pl.col("recent_dates").list.len(),
        pl.lit(days),
        pl.lit(as_of.strftime("%b %-d")),
        "per_week",
    )


def do_first(as_of: date) -> pl.Expr:
    return pl.format(
        "On {} {} came before it: do it at the start of the workout, while you are fresh.",
        day(pl.col("session_date"), as_of),
        "came_after_exercise",
    )
