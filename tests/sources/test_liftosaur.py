"""Liftosaur's history CSV (`History_exportAsCSV`): no real sample, so every quirk is built
inline here from the app's export code: quoted names with their equipment after a comma, the
unit per row, warm-ups, sets planned but not done, AMRAP, RPE, notes over several lines, and
bad rows."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from schemas.set_row import LB_TO_KG
from sources import HEAD_BYTES, detect, fitbod_csv, liftosaur_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

HEADER = (
    "Workout DateTime,Program,Day Name,Exercise,Is Warmup Set?,Required Reps,Completed Reps,"
    "Is AMRAP?,Required RPE,Completed RPE,Log RPE?,Required Weight Value,Required Weight Unit,"
    "Completed Weight Value,Completed Weight Unit,Ask Weight?,Completed Reps Time,"
    "Target Muscles,Synergist Muscles,Notes"
)
MONDAY = "2026-11-03T18:05:11.000Z"
WEDNESDAY = "2026-11-05T17:00:00.000Z"
BENCH = '"Bench Press, Barbell"'
SQUAT = '"Squat, Barbell"'


# The header's columns, by the names the fixtures below use.
COLUMNS = (
    "start", "program", "day", "exercise", "warmup", "required_reps", "reps", "amrap",
    "required_rpe", "rpe", "log_rpe", "required_weight", "required_unit", "weight", "unit",
    "ask_weight", "done_at", "target", "synergist", "notes",
)  # fmt: skip


def row(start: str, exercise: str, **cells: str) -> str:
    """A row as the app writes it: `1`/`0` booleans, empty cells for what is not set."""
    defaults = {"program": "GZCLP", "day": "Day 1", "warmup": "0", "required_reps": "5"}
    defaults |= {"reps": "5", "amrap": "0", "log_rpe": "0", "ask_weight": "0"}
    values = {**defaults, "start": start, "exercise": exercise, **cells}
    return ",".join(values.get(name, "") for name in COLUMNS)


def fixture(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


QUIRKS = fixture(
    row(
        MONDAY,
        BENCH,
        warmup="1",
        weight="45",
        unit="lb",
        required_weight="45",
        required_unit="lb",
        done_at="2026-11-03T18:07:02.120Z",
        target='"Pectoralis Major Sternal Head,Triceps Brachii"',
        synergist="Deltoid Anterior",
    ),
    row(MONDAY, BENCH, warmup="1", reps="3", required_reps="3", weight="95", unit="lb"),
    row(MONDAY, BENCH, weight="135", unit="lb", done_at="2026-11-03T18:12:40.000Z"),
    # Planned, not done: no completed reps (the app writes the planned weight all the same).
    row(MONDAY, BENCH, reps="", weight="135", unit="lb", required_weight="135"),
    row(
        MONDAY,
        BENCH,
        amrap="1",
        reps="9",
        required_rpe="8",
        rpe="9.5",
        log_rpe="1",
        weight="135",
        unit="lb",
        notes='"Paused the first rep, ""easy""\nnext time 140"',
    ),
    row(MONDAY, SQUAT, required_rpe="8", weight="102.5", unit="kg"),
    row(MONDAY, SQUAT, reps="0", weight="102.5", unit="kg"),  # 0 done: not a set either
    # No completed weight: done at the planned one.
    row(MONDAY, '"Deadlift, Trap Bar"', required_weight="140", required_unit="kg"),
    row(MONDAY, "Chin Up", reps="8", weight="0", unit="kg"),
    row(WEDNESDAY, BENCH, weight="140", unit="lb", day="Day 2"),
)


def test_quirks(workspace: Workspace) -> None:
    assert detect(QUIRKS.encode()) is liftosaur_csv
    result = workspace.ingest("u1/liftosaur.csv", QUIRKS)
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "liftosaur_csv",
        8,
        0,
        2,
    )
    found = workspace.query(
        "SELECT exercise_raw, set_index, set_type, reps, load_kg, load_unit, rpe, "
        "epoch(performed_at), source_line FROM sets ORDER BY source_line"
    )
    monday, wednesday = epoch(MONDAY), epoch(WEDNESDAY)
    lb = LB_TO_KG
    assert found == [
        # The quoted name keeps its comma; warm-ups first, numbered with the sets after them.
        ("Bench Press, Barbell", 1, "warmup", 5, pytest.approx(45 * lb), "lb", None, monday, 2),
        ("Bench Press, Barbell", 2, "warmup", 3, pytest.approx(95 * lb), "lb", None, monday, 3),
        ("Bench Press, Barbell", 3, "working", 5, pytest.approx(135 * lb), "lb", None, monday, 4),
        # AMRAP: the reps done, and the RPE logged (not the 8 planned).
        ("Bench Press, Barbell", 4, "working", 9, pytest.approx(135 * lb), "lb", 9.5, monday, 6),
        # The unit is per row: kg here; a planned RPE alone is no RPE. The note's line break
        # made the row above two lines long, so this one is on line 8.
        ("Squat, Barbell", 1, "working", 5, 102.5, "kg", None, monday, 8),
        ("Deadlift, Trap Bar", 1, "working", 5, 140.0, "kg", None, monday, 10),
        ("Chin Up", 1, "working", 8, 0.0, "kg", None, monday, 11),
        # Another workout: a session of its own, numbering from 1 again.
        (
            "Bench Press, Barbell",
            1,
            "working",
            5,
            pytest.approx(140 * lb),
            "lb",
            None,
            wednesday,
            12,
        ),
    ]
    # Every set is stamped with its workout's start, not with its `Completed Reps Time`.
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == 2


def test_bad_rows_are_rejected_with_what_was_written(workspace: Workspace) -> None:
    text = fixture(
        row(MONDAY, BENCH, reps="five", weight="135", unit="lb"),
        row(MONDAY, BENCH, weight="135", unit="stone"),
        row(MONDAY, BENCH, warmup="2", weight="135", unit="lb"),
        row("yesterday", BENCH, weight="135", unit="lb"),
        row(MONDAY, BENCH, rpe="11", weight="135", unit="lb"),
        row(MONDAY, BENCH, weight="135", unit="lb").replace(BENCH, "Bench Press, Barbell"),
        row(MONDAY, BENCH, reps="4", weight="135", unit="lb"),
    )
    result = workspace.ingest("u1/liftosaur.csv", text)
    assert (result.loaded, result.rejected, result.skipped) == (1, 6, 0)
    rejects = dict(workspace.query("SELECT source_line, errors FROM rejects"))
    found = {
        line: {(e["field"], e["value"], e["rule"]) for e in json.loads(errors)}
        for line, errors in rejects.items()
    }
    assert found[2] == {("reps", "five", "int_text")}
    assert found[3] == {("unit", "stone", "choice_text")}
    assert found[4] == {("set_type", "2", "choice_text")}
    assert found[5] == {("performed_at", "yesterday", "timestamp_text")}
    assert found[6] == {("rpe", "11", "less_than_equal")}
    # The name written without quotes splits in two: one field too many.
    assert found[7] == {("", None, "structure")}
    assert "expected 20 fields as in the header, found 21" in rejects[7]
    assert workspace.query("SELECT reps, source_line FROM sets") == [(4, 8)]


def test_detection_tells_liftosaur_and_fitbod_apart() -> None:
    fitbod = (
        b"Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,Resistance,isWarmup,"
        b"Note,multiplier\n"
    )
    assert liftosaur_csv.detect(QUIRKS.encode()) and not fitbod_csv.detect(QUIRKS.encode())
    assert fitbod_csv.detect(fitbod) and not liftosaur_csv.detect(fitbod)
    assert not liftosaur_csv.detect(HEADER.replace("Completed Reps,", "").encode())


@needs_real_data
def test_no_real_export_is_taken_for_liftosaur() -> None:
    paths = sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.name != "README.md")
    assert paths
    for path in paths:
        assert not liftosaur_csv.detect(path.read_bytes()[:HEAD_BYTES]), path


def test_every_form_of_the_workout_time_and_the_muscles(workspace: Workspace) -> None:
    # README: Liftosaur writes its times with and without milliseconds, and also with a space.
    starts = ["2026-03-03T09:01:00.000Z", "2026-03-05T09:01:00Z", "2026-03-07 09:01:00 +00:00"]
    text = fixture(
        *[
            row(
                start,
                BENCH,
                weight="100",
                unit="kg",
                target="chest",
                synergist='"triceps,shoulders"',
            )
            for start in starts
        ],
        row(starts[0], SQUAT, weight="140", unit="kg", target='"quadriceps,glutes"'),
    )
    outcome = workspace.ingest("u1/liftosaur.csv", text)
    assert (outcome.loaded, outcome.rejected) == (4, 0)
    stored = workspace.query("SELECT DISTINCT performed_at FROM sets ORDER BY 1")
    assert [t.timestamp() for (t,) in stored] == [epoch(s.replace(" +", "+")) for s in starts]
    groups = workspace.query(
        "SELECT exercise_raw, role, muscle_group FROM exercise_muscle_groups ORDER BY ALL"
    )
    assert groups == [
        ("Bench Press, Barbell", "primary", "chest"),
        ("Bench Press, Barbell", "secondary", "shoulders"),
        ("Bench Press, Barbell", "secondary", "triceps"),
        ("Squat, Barbell", "primary", "glutes"),
        ("Squat, Barbell", "primary", "quadriceps"),
    ]
    # A later export that names an exercise's muscles otherwise replaces them; others stay.
    later = fixture(row(WEDNESDAY, BENCH, weight="100", unit="kg", target="chest"))
    workspace.ingest("u1/later.csv", later)
    assert workspace.query(
        "SELECT exercise_raw, role, muscle_group FROM exercise_muscle_groups ORDER BY ALL"
    ) == [groups[0], *groups[3:]]
