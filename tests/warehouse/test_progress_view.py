"""v_exercise_progress: sessions over time, the running best e1RM, and the flag each session
produced. Expectations come from the test's own sessions and from the engine's flags per as-of
date, never from the view's SQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from rules import evaluate
from tests.cases import S, history, sets_of, shipped_programs
from warehouse.db import migrate
from warehouse.flags import store_flags

PROGRAMS = shipped_programs()
START = date(2026, 9, 1)
INTRO_SESSIONS = [sets_of(2, 10)] * 3  # the hyperextension program holds these
PROGRESS = """
SELECT session_date, session_number, e1rm_kg, best_e1rm_kg, e1rm_pr, flag_action,
       flag_next_sets, flag_next_reps, flag_run_id, flag_evidence
FROM v_exercise_progress WHERE athlete_id = ? AND exercise_id = ? ORDER BY session_number
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    migrate(connection)
    yield connection
    connection.close()


def store_sets(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> None:
    """Insert a tests.cases.history frame as the loader would store it."""
    con.register("history_frame", frame.to_arrow())
    con.execute(
        """
        INSERT INTO sets
        SELECT athlete_id, session_id, performed_at, exercise_id, exercise_id, exercise_id,
               row_number() OVER (PARTITION BY session_id, exercise_id ORDER BY performed_at),
               set_type, reps, load_kg, load_unit, rpe, NULL, NULL, NULL, 'canonical_csv',
               file_id, source_line, 'load', NULL, NULL, NULL, NULL  -- no row hashes, targets
        FROM history_frame
        """
    )
    con.execute(
        "INSERT INTO athletes SELECT DISTINCT athlete_id, 'UTC', 'kg' FROM history_frame "
        "WHERE athlete_id NOT IN (SELECT athlete_id FROM athletes)"
    )
    con.unregister("history_frame")


def flag_run(con: duckdb.DuckDBPyConnection, sets: pl.DataFrame, as_of: date, run: str) -> dict:
    """Evaluate the rules as of a date and store the flags like a run; return them by pair."""
    flags = evaluate(sets, PROGRAMS, as_of)
    store_flags(con, flags, run, as_of)
    progression = flags.filter(pl.col("kind") == "progression")
    return {(row["athlete_id"], row["exercise_id"]): row for row in progression.to_dicts()}


def progress(con: duckdb.DuckDBPyConnection, athlete: str, exercise: str) -> list[dict]:
    frame = con.execute(PROGRESS, [athlete, exercise]).pl()
    return frame.to_dicts()


def test_each_nightly_run_flags_the_session_it_judged(con: duckdb.DuckDBPyConnection) -> None:
    sessions = [*INTRO_SESSIONS, sets_of(2, 11), sets_of(2, 12)]
    sets = history(sessions, start=START, every_days=3)
    store_sets(con, sets)
    expected = {}
    for number in range(len(sessions)):
        day = START + timedelta(days=3 * number)
        expected[day] = flag_run(con, sets, day, f"run-{number}")[("a1", "back_extension")]

    rows = progress(con, "a1", "back_extension")

    assert [r["session_date"] for r in rows] == sorted(expected)
    assert [r["session_number"] for r in rows] == list(range(1, len(sessions) + 1))
    for row in rows:
        flag = expected[row["session_date"]]
        assert row["flag_action"] == flag["action"]
        assert (row["flag_next_sets"], row["flag_next_reps"]) == (
            flag["next_sets"],
            flag["next_reps"],
        )
        assert max(row["flag_evidence"]) == row["session_date"]
    assert [r["flag_run_id"] for r in rows] == [f"run-{n}" for n in range(len(sessions))]


def test_a_later_run_that_judges_the_same_session_replaces_its_flag(
    con: duckdb.DuckDBPyConnection,
) -> None:
    sets = history([sets_of(3, 10, 60.0), sets_of(3, 12, 60.0)], exercise="squat", start=START)
    store_sets(con, sets)
    last = START + timedelta(days=3)
    flag_run(con, sets, last, "run-1")
    # Days later, nothing new: the rules judge the same last session again (a config change).
    flag_run(con, sets, last + timedelta(days=2), "run-2")

    rows = progress(con, "a1", "squat")

    assert [r["flag_run_id"] for r in rows] == [None, "run-2"]
    assert len(rows) == con.execute("SELECT count(*) FROM v_sessions").fetchone()[0]  # type: ignore[index]


def test_two_sessions_on_one_day_flag_the_later_one(con: duckdb.DuckDBPyConnection) -> None:
    morning = history([sets_of(3, 8, 50.0)], exercise="squat", start=START)
    evening = morning.with_columns(
        session_id=pl.lit("a1-evening"),
        performed_at=pl.col("performed_at") + timedelta(hours=10),
    )
    sets = pl.concat([morning, evening])
    store_sets(con, sets)
    flag_run(con, sets, START, "run-1")

    rows = progress(con, "a1", "squat")

    assert [r["session_date"] for r in rows] == [START, START]
    assert [r["flag_run_id"] for r in rows] == [None, "run-1"]


def test_best_e1rm_and_prs_follow_the_sessions(con: duckdb.DuckDBPyConnection) -> None:
    loads = [(60.0, 5), (62.5, 5), (60.0, 8), (55.0, 5), (70.0, 3)]
    sets = history(
        [[S(5, 40.0, set_type="warmup"), S(reps, load)] for load, reps in loads],
        exercise="deadlift",
        athlete="b2",
        start=START,
    )
    store_sets(con, sets)
    epley = [load * (1 + reps / 30) for load, reps in loads]
    best = [max(epley[: n + 1]) for n in range(len(epley))]
    prs = [n > 0 and epley[n] > max(epley[:n]) for n in range(len(epley))]

    rows = progress(con, "b2", "deadlift")

    assert [r["e1rm_kg"] for r in rows] == pytest.approx(epley)
    assert [r["best_e1rm_kg"] for r in rows] == pytest.approx(best)
    assert [r["e1rm_pr"] for r in rows] == prs
    assert all(r["flag_action"] is None for r in rows)  # no run evaluated the rules


def test_advice_flags_do_not_duplicate_sessions(con: duckdb.DuckDBPyConnection) -> None:
    sessions = [*INTRO_SESSIONS, sets_of(2, 11)]
    sets = pl.concat(
        [
            history(sessions, start=START, every_days=10),
            # another exercise before the hyperextensions in the last session: do_first advice
            history(
                [[S(5, 100.0)]], exercise="squat", start=START + timedelta(days=30)
            ).with_columns(performed_at=pl.col("performed_at") - timedelta(minutes=30)),
        ]
    )
    store_sets(con, sets)
    flags = evaluate(sets, PROGRAMS, START + timedelta(days=30))
    assert set(flags.filter(pl.col("kind") == "advice")["action"]) >= {"do_first"}
    store_flags(con, flags, "run-1", START + timedelta(days=30))

    rows = progress(con, "a1", "back_extension")

    assert len(rows) == len(sessions)
    assert [r["flag_action"] for r in rows][-1] == "raise_reps"
    assert [r["flag_action"] for r in rows][:-1] == [None] * (len(sessions) - 1)
