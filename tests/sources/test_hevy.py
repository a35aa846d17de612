"""Hevy: the shared rule for what a set is, set-type markers, and the lifter's unit.

Synthetic files follow ../shared/data/real/README.md; the real files are in
test_real_exports.py, checked against an independent reading with Python's csv module.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime

import pytest

from flows import pipeline
from sources import detect, hevy_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

HEADER = (
    "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,"
    "set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe"
)
WORKOUT = '"Push","15 Sep 2025, 07:48","15 Sep 2025, 08:50","",'


def row(exercise: str, index: int, kind: str, kg: str, reps: str, km: str, seconds: str) -> str:
    return f'{WORKOUT}"{exercise}",,"",{index},"{kind}",{kg},{reps},{km},{seconds},'


def ingest(workspace: Workspace, text: str, header: str = HEADER) -> pipeline.FileOutcome:
    return workspace.ingest("u1/hevy.csv", header + "\n" + text + "\n")


def test_set_types_and_rows_with_nothing_measured(workspace: Workspace) -> None:
    text = "\n".join(
        [
            row("Bench Press (Barbell)", 0, "warmup", "40", "10", "", ""),
            row("Bench Press (Barbell)", 1, "normal", "80", "5", "", "0"),
            row("Bench Press (Barbell)", 2, "failure", "80", "0", "", "0"),  # failed attempt
            row("Bench Press (Barbell)", 3, "dropset", "60", "8", "", ""),
            row("Plank", 0, "normal", "", "0", "", "60"),  # a timed set, written reps 0
            row("Rowing Machine", 0, "normal", "", "", "1.5", "420"),
            row("Crunch (Weighted)", 0, "normal", "10", "", "", ""),
        ]
    )
    assert not hevy_csv.detect(text.encode())  # no header: not a Hevy file
    assert detect((HEADER + "\n" + text).encode()) is hevy_csv
    outcome = ingest(workspace, text)
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "hevy_csv",
        5,
        0,
        2,
    )
    stored = workspace.query(
        "SELECT exercise_raw, set_index, set_type, reps, load_kg, duration_s, distance_m "
        "FROM sets ORDER BY source_line"
    )
    assert stored == [
        ("Bench Press (Barbell)", 1, "warmup", 10, 40.0, None, None),
        ("Bench Press (Barbell)", 2, "working", 5, 80.0, None, None),
        # Numbered with the failed attempt, as before it was skipped: stored keys do not move.
        ("Bench Press (Barbell)", 4, "drop", 8, 60.0, None, None),
        ("Plank", 1, "working", None, 0.0, 60.0, None),
        ("Rowing Machine", 1, "working", None, 0.0, 420.0, 1500.0),
    ]


def test_an_unknown_set_type_is_rejected_not_a_working_set(workspace: Workspace) -> None:
    text = "\n".join(
        [
            row("Squat (Barbell)", 0, "normal", "100", "5", "", ""),
            row("Squat (Barbell)", 1, "cluster", "100", "5", "", ""),
            row("Squat (Barbell)", 2, "WARMUP", "60", "5", "", ""),
        ]
    )
    outcome = ingest(workspace, text)
    assert (outcome.loaded, outcome.rejected) == (2, 1)
    (errors,) = workspace.query("SELECT errors FROM rejects")[0]
    (error,) = json.loads(errors)
    assert (error["field"], error["value"]) == ("set_type", "cluster")
    types = workspace.query("SELECT set_type FROM sets ORDER BY source_line")
    assert types == [("working",), ("warmup",)]


def test_round_pounds_written_in_kg_come_back_in_lb(workspace: Workspace) -> None:
    text = "\n".join(
        [
            row("Curl (Dumbbell)", 0, "normal", "11.33980925", "10", "", ""),  # 25 lb
            row("Curl (Dumbbell)", 1, "normal", "13.6077711", "8", "", ""),  # 30 lb
            row("Squat (Barbell)", 0, "normal", "100", "5", "", ""),
        ]
    )
    ingest(workspace, text)
    stored = workspace.query(
        "SELECT DISTINCT exercise_raw, load_unit FROM sets ORDER BY exercise_raw"
    )
    assert stored == [("Curl (Dumbbell)", "lb"), ("Squat (Barbell)", "kg")]


def test_the_imperial_layout_is_pounds_as_written(workspace: Workspace) -> None:
    header = HEADER.replace("weight_kg", "weight_lbs").replace("distance_km", "distance_miles")
    text = row("Curl (Dumbbell)", 0, "normal", "25", "10", "", "")
    assert ingest(workspace, text, header).loaded == 1
    (unit, kg) = workspace.query("SELECT load_unit, load_kg FROM sets")[0]
    assert (unit, kg) == ("lb", pytest.approx(25 * 0.45359237))


@needs_real_data
@pytest.mark.parametrize("relative", ["hevy/hevy_kg.csv", "hevy/hevy_lbs.csv"])
def test_real_files_are_detected_as_hevy(relative: str) -> None:
    assert detect((REAL_DATA / relative).read_bytes()[:65536]) is hevy_csv


@needs_real_data
def test_hevy_claims_no_other_real_export() -> None:
    others = [p for p in REAL_DATA.rglob("*.*") if p.parent.name != "hevy"]
    assert len(others) >= 10
    assert [p.name for p in others if hevy_csv.detect(p.read_bytes()[:65536])] == []


def test_us_dates_month_first_and_12_hour(workspace: Workspace) -> None:
    us = '"Push","Jun 11, 2026, 1:01 PM","Jun 11, 2026, 2:04 PM","",'
    text = "\n".join(
        [
            f'{us}"Squat (Barbell)",,"",0,"normal",100,5,,,',
            f'{us}"Squat (Barbell)",,"",1,"normal",100,5,,,',
            '"Pull","Jun 12, 2026, 12:15 AM","Jun 12, 2026, 1:00 AM","",'
            '"Row",,"",0,"normal",60,8,,,',
        ]
    )
    outcome = ingest(workspace, text)
    assert (outcome.loaded, outcome.rejected) == (3, 0)
    assert [f"{t:%Y-%m-%d %H:%M}" for (t,) in workspace.query(
        "SELECT DISTINCT performed_at FROM sets ORDER BY 1"
    )] == ["2026-06-11 13:01", "2026-06-12 00:15"]  # fmt: skip


def test_a_file_whose_rows_all_fail_one_rule_fails_whole(workspace: Workspace) -> None:
    odd = '"Push","the 11th of June","","",'
    text = "\n".join(f'{odd}"Squat (Barbell)",,"",{n},"normal",100,5,,,' for n in range(3))
    outcome = ingest(workspace, text)
    assert outcome.status == "failed"
    assert outcome.error is not None
    assert outcome.error.startswith("dates like 'the 11th of June' are not understood")
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0
    assert workspace.query("SELECT status, error FROM ingested_files") == [
        ("failed", outcome.error)
    ]
    # Rows that fail in different ways are rejected row by row, and the file loads.
    mixed = text + f'\n{WORKOUT}"Squat (Barbell)",,"",0,"normal",heavy,5,,,'
    again = workspace.ingest("u1/mixed.csv", HEADER + "\n" + mixed + "\n")
    assert (again.status, again.loaded, again.rejected) == ("loaded", 0, 4)


@needs_real_data
def test_the_real_us_export_loads_every_row(workspace: Workspace) -> None:
    with (REAL_DATA / "hevy/hevy_us_12h_dates.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    measures = ("reps", "duration_seconds", "distance_km")
    measured = [r for r in rows if any(float(r[c] or 0) > 0 for c in measures)]
    outcome = workspace.ingest_real("hevy/hevy_us_12h_dates.csv")
    assert (outcome.status, outcome.loaded, outcome.rejected) == ("loaded", len(measured), 0)
    assert outcome.skipped == len(rows) - len(measured)
    starts = sorted(datetime.strptime(r["start_time"], "%b %d, %Y, %I:%M %p") for r in measured)
    stored = workspace.query("SELECT min(performed_at), max(performed_at) FROM sets")[0]
    assert [s.replace(tzinfo=None) for s in stored] == [starts[0], starts[-1]]
    volume = sum(float(r["reps"] or 0) * float(r["weight_kg"] or 0) for r in measured)
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(volume)
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(
        {r["start_time"] for r in measured}
    )
