"""FitNotes: exercise names with an unquoted comma, rows with nothing measured, distance units.

Synthetic files follow ../shared/data/real/README.md; the real files are checked against an
independent reading with Python's csv module.
"""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from sources import detect, fitnotes_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

HEADER = "Date,Exercise,Category,Weight,Weight Unit,Reps,Distance,Distance Unit,Time"
LB = 0.45359237


def reject_messages(workspace: Workspace) -> dict[int, str]:
    rows = workspace.query("SELECT source_line, errors FROM rejects ORDER BY source_line")
    return {line: json.loads(errors)[0]["message"] for line, errors in rows}


def test_an_unquoted_comma_in_the_exercise_name_joins_the_name(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2025-04-29,Overhead Press (Each Side, Dumbbells),Shoulders,8.0,kgs,5,,,",
            "2025-04-29,Overhead Press (Each Side, Dumbbells),Shoulders,10.0,kgs,3,,,",
            "2025-04-29,Row (Cable, Wide, Seated),Back,40.0,kgs,12,,,",  # two commas
            "2025-04-29,Run (Road, Track),Cardio,,,,5.0,km,0:30:00",  # no weight, no reps
            "2025-04-29,Squat,Legs,100.0,kgs,5,,,",
        ]
    )
    assert detect(text.encode()) is fitnotes_csv
    outcome = workspace.ingest("u1/fitnotes.csv", text + "\n")
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "fitnotes_csv",
        5,
        0,
        0,
    )
    stored = workspace.query(
        "SELECT exercise_raw, set_index, reps, load_kg, distance_m, duration_s FROM sets "
        "ORDER BY source_line"
    )
    assert stored == [
        ("Overhead Press (Each Side, Dumbbells)", 1, 5, 8.0, None, None),
        ("Overhead Press (Each Side, Dumbbells)", 2, 3, 10.0, None, None),
        ("Row (Cable, Wide, Seated)", 1, 12, 40.0, None, None),
        ("Run (Road, Track)", 1, None, 0.0, 5000.0, 1800.0),
        ("Squat", 1, 5, 100.0, None, None),
    ]


def test_a_field_too_many_that_does_not_mend_is_rejected_with_why(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2025-04-29,Press (A, B),Shoulders,heavy,kgs,5,,,",
            "2025-04-29,Press (A, B),Shoulders,8.0,stone,5,,,",
            "2025-04-29,Press (A, B),Shoulders,8.0,kgs,five,,,",
            "2025-04-29,Press (A, B, C),Shoulders,8.0,kgs,5,,,,",  # a separator too many
            "2025-04-29,Run (Road, Track),Cardio,,,,,,",  # nothing left to check the shift by
            "2025-04-29,Press,Shoulders,8.0,kgs",  # too few: as csv_text says
            "2025-04-29,Press (A, B),Shoulders,8.0,kgs,5,,,",
        ]
    )
    outcome = workspace.ingest("u1/fitnotes.csv", text + "\n")
    assert (outcome.loaded, outcome.rejected) == (1, 6)
    joined = "one field too many, and joining it to the exercise name"
    assert reject_messages(workspace) == {
        2: f"{joined} does not leave a number in Weight (it leaves 'heavy')",
        3: f"{joined} does not leave a known unit (kg, kgs, lb, lbs) in Weight Unit "
        "(it leaves 'stone')",
        4: f"{joined} does not leave a whole number in Reps (it leaves 'five')",
        5: "3 fields too many, and joining them to the exercise name does not leave a number "
        "in Weight (it leaves 'kgs')",
        6: f"{joined} leaves nothing in Weight, Weight Unit, Reps, Distance, Distance Unit, Time",
        7: "expected 9 fields as in the header, found 5",
    }
    assert workspace.query("SELECT exercise_raw, load_kg FROM sets") == [("Press (A, B)", 8.0)]


def test_the_comment_layout_mends_too_and_a_quoted_comment_stays_whole(
    workspace: Workspace,
) -> None:
    text = (
        f"{HEADER},Comment\n"
        '2024-01-10,Bench Press (Flat, Barbell),Chest,135.0,lbs,5,,,,"slow, paused"\n'
        '2024-01-10,Bench Press,Chest,135.0,lbs,5,,,,"easy, fast"\n'
    )
    outcome = workspace.ingest("u1/fitnotes.csv", text)
    assert (outcome.loaded, outcome.rejected) == (2, 0)
    stored = workspace.query("SELECT exercise_raw, load_unit, load_kg FROM sets ORDER BY 1")
    assert stored == [
        ("Bench Press", "lb", pytest.approx(135 * LB)),
        ("Bench Press (Flat, Barbell)", "lb", pytest.approx(135 * LB)),
    ]


def test_rows_with_nothing_measured_are_not_sets(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2024-01-10,Bench Press,Chest,200.0,lbs,0,,,",  # a failed attempt
            "2024-01-10,Bench Press,Chest,185.0,lbs,3,,,",
            "2024-01-10,Side Plank,Abs,,,,,,0:00:00",  # a timer never started
            "2024-01-10,Side Plank,Abs,,,,,,0:00:45",
            "2024-01-10,Dead Hang,Back,20.0,lbs,0,,,0:01:00",  # reps 0 with a time
            "2024-01-10,Sled Push,Legs,90.0,lbs,0,0.0,m,0:00:00",
            "2024-01-10,Bench Press,Chest,185.0,lbs,2,,,",
        ]
    )
    outcome = workspace.ingest("u1/fitnotes.csv", text + "\n")
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (4, 0, 3)
    stored = workspace.query(
        "SELECT exercise_raw, set_index, reps, duration_s, distance_m FROM sets "
        "ORDER BY source_line"
    )
    assert stored == [
        # Numbered with the failed attempt, as before it was skipped: stored keys do not move.
        ("Bench Press", 2, 3, None, None),
        ("Side Plank", 2, None, 45.0, None),
        ("Dead Hang", 1, None, 60.0, None),
        ("Bench Press", 3, 2, None, None),
    ]


def test_distances_in_feet_and_yards_and_an_unknown_unit(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2024-01-10,Sled Push,Legs,,,,100.0,ft,0:01:00",
            "2024-01-10,Farmer Walk,Legs,,,,50.0,yd,0:01:00",
            "2024-01-10,Run,Cardio,,,,1.5,mi,0:12:00",
            "2024-01-10,Row,Cardio,,,,2.0,furlong,0:08:00",
        ]
    )
    outcome = workspace.ingest("u1/fitnotes.csv", text + "\n")
    assert (outcome.loaded, outcome.rejected) == (3, 1)
    stored = workspace.query("SELECT distance_m FROM sets ORDER BY source_line")
    assert [d for (d,) in stored] == pytest.approx([30.48, 45.72, 2414.016])
    (errors,) = workspace.query("SELECT errors FROM rejects")[0]
    assert '"value": "2.0 furlong"' in errors


def test_lifter_unit_for_round_pounds_written_in_kg(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2024-01-10,Curl,Arms,11.33980925,kgs,10,,,",  # 25 lb
            "2024-01-10,Curl,Arms,13.6077711,kgs,8,,,",  # 30 lb
            "2024-01-10,Squat,Legs,100.0,kgs,5,,,",
        ]
    )
    workspace.ingest("u1/fitnotes.csv", text + "\n")
    units = workspace.query("SELECT DISTINCT exercise_raw, load_unit FROM sets ORDER BY 1")
    assert units == [("Curl", "lb"), ("Squat", "kg")]


REAL = ("fitnotes/fitnotes_lbs.csv", "fitnotes/fitnotes_unquoted_commas.csv")


def nothing(value: str) -> bool:
    """Empty or zero, as FitNotes writes it (`0`, `0.0`, `0:00:00`)."""
    return not value.strip() or all(float(part) == 0 for part in value.split(":"))


def independent(relative: str) -> tuple[list[dict[str, str]], int]:
    """The rows as csv reads them, each extra field joined to the exercise name, and how many
    have nothing measured."""
    with (REAL_DATA / relative).open(newline="", encoding="utf-8-sig") as handle:
        header, *records = list(csv.reader(handle))
    rows = []
    for record in records:
        extra = len(record) - len(header)
        fields = [record[0], ",".join(record[1 : 2 + extra]), *record[2 + extra :]]
        rows.append(dict(zip(header, fields, strict=True)))
    unlogged = sum(all(nothing(r[c]) for c in ("Reps", "Time", "Distance")) for r in rows)
    return rows, unlogged


@needs_real_data
def test_real_unquoted_commas_load_with_their_full_names(workspace: Workspace) -> None:
    rows, unlogged = independent("fitnotes/fitnotes_unquoted_commas.csv")
    with (REAL_DATA / "fitnotes/fitnotes_unquoted_commas.csv").open() as handle:
        longer = sum(line.count(",") == 9 for line in handle)
    assert (len(rows), longer, unlogged) == (1624, 99, 0)
    outcome = workspace.ingest_real("fitnotes/fitnotes_unquoted_commas.csv")
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "fitnotes_csv",
        len(rows),
        0,
        0,
    )
    per_exercise: dict[str, int] = {}
    for r in rows:
        per_exercise[r["Exercise"]] = per_exercise.get(r["Exercise"], 0) + 1
    stored = dict(workspace.query("SELECT exercise_raw, count(*) FROM sets GROUP BY ALL"))
    assert stored == per_exercise
    assert stored["Overhead Press (Each Side, Dumbbells)"] == 84
    volume = sum(int(r["Reps"]) * float(r["Weight"]) for r in rows)  # every unit is kgs
    assert {r["Weight Unit"] for r in rows} == {"kgs"}
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(volume)
    first, last = workspace.query(
        "SELECT min(performed_at)::DATE, max(performed_at)::DATE FROM sets"
    )[0]
    assert (first, last) == (date(2025, 4, 29), date(2025, 9, 16))


@needs_real_data
def test_real_failed_attempts_are_skipped(workspace: Workspace) -> None:
    rows, unlogged = independent("fitnotes/fitnotes_lbs.csv")
    # FitNotes logs a failed attempt as 0 reps with its weight: 17 in this file, none with a
    # time or a distance.
    zero_reps = [r for r in rows if r["Reps"] == "0"]
    assert unlogged == len(zero_reps) == 17
    assert all(not r["Time"] and not r["Distance"] and float(r["Weight"]) > 0 for r in zero_reps)
    outcome = workspace.ingest_real("fitnotes/fitnotes_lbs.csv")
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (
        len(rows) - unlogged,
        0,
        unlogged,
    )
    assert workspace.scalar("SELECT count(*) FROM sets WHERE reps = 0") == 0
    timed = sum(not r["Reps"] for r in rows)
    assert workspace.scalar("SELECT count(*) FROM sets WHERE reps IS NULL") == timed > 0
    metres = {"mi": 1609.344, "m": 1.0, "ft": 0.3048}
    distance = sum(float(r["Distance"]) * metres[r["Distance Unit"]] for r in rows if r["Distance"])
    assert {r["Distance Unit"] for r in rows if r["Distance"]} == set(metres)
    assert workspace.scalar("SELECT sum(distance_m) FROM sets") == pytest.approx(distance)


@needs_real_data
@pytest.mark.parametrize("relative", REAL)
def test_real_files_are_detected_as_fitnotes(relative: str) -> None:
    head = (REAL_DATA / relative).read_bytes()[:65536]
    assert detect(head) is fitnotes_csv


@needs_real_data
def test_fitnotes_claims_no_other_real_export() -> None:
    others = [p for p in REAL_DATA.rglob("*.*") if p.parent.name != "fitnotes"]
    assert len(others) >= 10
    assert [p.name for p in others if fitnotes_csv.detect(p.read_bytes()[:65536])] == []


def test_each_exercises_category_is_kept(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER,
            "2024-03-01,Flat Barbell Bench Press,Chest,60.0,kgs,5,,,",
            "2024-03-01,Flat Barbell Bench Press,Chest,60.0,kgs,5,,,",
            "2024-03-01,Treadmill,Cardio,,,,1.5,km,0:10:00",
        ]
    )
    workspace.ingest("u1/FitNotes_Export.csv", text + "\n")
    assert workspace.query(
        "SELECT source_format, exercise_key, role, muscle_group FROM exercise_muscle_groups "
        "ORDER BY ALL"
    ) == [
        ("fitnotes_csv", "flat barbell bench press", "category", "Chest"),
        ("fitnotes_csv", "treadmill", "category", "Cardio"),
    ]
