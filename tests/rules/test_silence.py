"""Why the rules gave no flag (rules.silence): each reason, for one athlete or everyone, and the
advice it gives works."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from rules import evaluate
from rules.silence import explain
from tests.cases import S, history, last_day, sets_of
from tests.rules.test_own import PROGRAMS, with_default


def why(frame: pl.DataFrame, as_of: date, athlete: str | None = None) -> str | None:
    con = duckdb.connect()
    try:
        con.register("rule_sets", frame)
        return explain(con, "rule_sets", PROGRAMS, as_of, {}, "UTC", athlete)
    finally:
        con.close()


def test_no_sets_at_all() -> None:
    assert why(history([]), date(2026, 9, 2)) == (
        "No sets are stored yet: load an export (`repflow ingest`, or the inbox)."
    )


def test_no_working_set_with_reps() -> None:
    frame = history([[S(10, 20, set_type="warmup"), S(None), S(8, 30, set_type="drop")]])
    assert evaluate(frame, PROGRAMS, date(2026, 9, 2)).height == 0
    assert why(frame, date(2026, 9, 2)) == (
        "None of the 3 sets stored is a working set with reps (they are warm-ups, drop sets, or "
        "timed or distance sets): the rules judge working sets with reps."
    )


def test_every_session_after_the_as_of_date() -> None:
    frame = history([sets_of(3, 5, 100)] * 2, exercise="squat")
    assert why(frame, date(2026, 8, 1)) == (
        "Every session is after the as-of date 2026-08-01 (the first is on 2026-09-01): run with "
        "a later `--as-of`."
    )


def test_every_exercise_dormant_names_the_last_session_and_what_to_change() -> None:
    frame = pl.concat(
        [
            history([sets_of(3, 5, 100)] * 2, exercise="squat"),
            history([sets_of(3, 8, 60)], exercise="row"),
        ]
    )
    as_of = last_day(2) + timedelta(days=200)
    assert evaluate(frame, PROGRAMS, as_of).height == 0
    assert why(frame, as_of) == (
        "Every exercise is dormant: the last session, squat on 2026-09-04, is 200 days before "
        "the as-of date 2027-03-23, more than dormant_days (180) of program default. Run with "
        "`--as-of 2026-09-05` to judge the sessions as of then, or raise dormant_days in "
        "programs.toml (0 keeps every exercise)."
    )
    # both ways out give flags
    assert evaluate(frame, PROGRAMS, date(2026, 9, 5)).height > 0
    assert evaluate(frame, with_default(dormant_days=0), as_of).height > 0


def test_no_explanation_when_there_are_flags_and_one_per_athlete() -> None:
    frame = pl.concat(
        [
            history([sets_of(3, 5, 100)], exercise="squat", start=date(2025, 1, 6)),
            history([sets_of(3, 5, 100)], exercise="squat", athlete="b2"),
        ]
    )
    as_of = date(2026, 9, 2)
    assert why(frame, as_of) is None
    assert why(frame, as_of, "b2") is None
    assert (why(frame, as_of, "a1") or "").startswith(
        "Every exercise for athlete a1 is dormant: the last session, squat on 2025-01-06,"
    )
    assert why(frame, as_of, "nobody") == (
        "No sets are stored for athlete nobody yet: load an export (`repflow ingest`, or the "
        "inbox)."
    )
