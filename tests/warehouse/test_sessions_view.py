"""v_sessions: one row per athlete, exercise and session, dated in the athlete's timezone.

Expectations are computed in Python from the inserted sets; the faster definition of migration
0005 is also checked row for row against the original one of migration 0002."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from warehouse.db import migrate, migrations

ZONES = {"utc": "UTC", "ber": "Europe/Berlin", "hnl": "Pacific/Honolulu"}  # "nozone": no row
COLUMNS = (
    "athlete_id, exercise_id, session_id, started_at, session_date, working_sets, "
    "reps_per_set, top_load_kg, volume_kg, e1rm_kg, load_unit"
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    migrate(connection)
    connection.executemany(
        "INSERT INTO athletes VALUES (?, ?, 'kg')", [[a, z] for a, z in ZONES.items()]
    )
    yield connection
    connection.close()


def random_sets(count: int, seed: int) -> list[tuple]:
    """Sets in sessions an hour either side of midnight UTC, so the timezone decides the date:
    (athlete, session, when, exercise, set_index, set_type, reps, load_kg, unit)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        athlete = rng.choice([*ZONES, "nozone"])
        day = rng.randrange(6)
        hour = rng.choice([1, 23])  # Honolulu's previous day, or Berlin's next
        start = datetime(2026, 11, 2, hour, tzinfo=UTC) + timedelta(days=day)
        when = start + timedelta(minutes=rng.randrange(50))
        set_type = rng.choice(["working", "working", "failure", "warmup", "drop"])
        reps = None if rng.random() < 0.1 else rng.randrange(0, 16)
        rows.append(
            (
                athlete,
                f"{athlete}-{day}-{hour}",
                when,
                rng.choice(["squat", "row"]),
                n + 1,
                set_type,
                reps,
                rng.choice([0.0, 20.0, 42.5, 60.0]),
                rng.choice(["kg", "kg", "lb"]),
            )
        )
    return rows


def insert(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    # One INSERT from a frame: executemany runs a statement per row (seconds for 3,000).
    names = ["athlete", "session", "started", "exercise", "n", "set_type", "reps", "kg", "unit"]
    frame = pl.DataFrame(rows, schema=names, orient="row")  # noqa: F841 (DuckDB reads it)
    con.execute(
        "INSERT INTO sets SELECT athlete, session, started, exercise, exercise, exercise, n, "
        "set_type, reps, kg, unit, NULL, NULL, NULL, NULL, 'canonical_csv', 'f1', 1, 'r1', "
        "NULL, NULL, NULL, NULL FROM frame"
    )


def expected_sessions(rows: list[tuple]) -> dict[tuple[str, str, str], dict]:
    grouped: dict[tuple[str, str, str], list[tuple]] = {}
    for row in rows:
        grouped.setdefault((row[0], row[3], row[1]), []).append(row)
    expected = {}
    for (athlete, exercise, session), sets in grouped.items():
        started = min(row[2] for row in sets)
        working = sorted(
            (row for row in sets if row[5] in ("working", "failure") and row[6] is not None),
            key=lambda row: row[4],
        )
        lifted = [row for row in working if row[6] >= 1]
        units = Counter(row[8] for row in sets).most_common()
        expected[(athlete, exercise, session)] = {
            "session_date": started.astimezone(ZoneInfo(ZONES.get(athlete, "UTC"))).date(),
            "working_sets": len(working),
            "reps_per_set": [row[6] for row in working] or None,
            "top_load_kg": max((row[7] for row in working), default=None),
            "volume_kg": sum(row[6] * row[7] for row in working) if working else None,
            "e1rm_kg": max((row[7] * (1 + row[6] / 30) for row in lifted), default=None),
            "load_units": {unit for unit, n in units if n == units[0][1]},  # mode: any of a tie
        }
    return expected


def test_sessions_are_dated_in_each_athlete_s_timezone_with_their_working_sets(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = random_sets(400, seed=7)
    insert(con, rows)
    expected = expected_sessions(rows)

    stored = con.execute(f"SELECT {COLUMNS} FROM v_sessions").fetchall()

    assert len(stored) == len(expected)
    shifted: Counter[tuple[str, int]] = Counter()
    for athlete, exercise, session, started, day, sets, reps, top, volume, e1rm, unit in stored:
        want = expected[(athlete, exercise, session)]
        assert (day, sets, reps) == (
            want["session_date"],
            want["working_sets"],
            want["reps_per_set"],
        )
        assert top == want["top_load_kg"] and volume == pytest.approx(want["volume_kg"])
        assert e1rm == pytest.approx(want["e1rm_kg"]) and unit in want["load_units"]
        shifted[athlete, (day - started.astimezone(UTC).date()).days] += 1
    # the zones matter here: sessions dated the day before (Honolulu) or after (Berlin) UTC's
    assert shifted["hnl", -1] and shifted["ber", 1]
    assert not any(
        n for (athlete, days), n in shifted.items() if athlete in ("utc", "nozone") and days
    )


def test_the_faster_definition_gives_the_rows_of_the_original(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = random_sets(3000, seed=11)
    insert(con, rows)
    original = next(sql for version, _, sql in migrations() if version == 2)
    view = re.search(r"CREATE VIEW v_sessions AS.*?;", original, re.DOTALL)
    assert view is not None
    con.execute(view.group(0).replace("v_sessions", "v_sessions_0002", 1))
    for first, second in (("v_sessions", "v_sessions_0002"), ("v_sessions_0002", "v_sessions")):
        missing = con.execute(
            f"SELECT count(*) FROM (SELECT {COLUMNS} FROM {first} "
            f"EXCEPT ALL SELECT {COLUMNS} FROM {second})"
        ).fetchone()
        assert missing == (0,)
    assert con.execute("SELECT count(*) FROM v_sessions").fetchone() == (
        len(expected_sessions(rows)),
    )
