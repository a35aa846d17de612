"""StrongLifts 5x5's wide export (sources/stronglifts_csv.py): one row a workout, 3 to 5 slots,
the load in the KG or LB column, an empty set cell not done, rows that stop short of the
header, dates in the phone's order; the real export against an independent reading."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime

import pytest

from sources import HEAD_BYTES, detect, stronglifts_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

REAL = "stronglifts/stronglifts_mdy.csv"
SLOT = "Weight (KG),Weight (LB),Set 1,Set 2,Set 3,Set 4,Set 5"


def header(slots: int) -> str:
    return "Date,Note,Body Weight (KG),Body Weight (LB)," + ",".join(
        f"Exercise {n},{SLOT}" for n in range(1, slots + 1)
    )


def test_every_quirk_of_a_stronglifts_export(workspace: Workspace) -> None:
    text = "\n".join(
        [
            header(5),
            # day first (19 cannot be a month); row stops short of the header
            "19/11/18,,80,,Squat,60,,5,5,5,5,5,Bench Press,45,,5,5,5,4,,Chinups,,,8,7",
            # pounds; a failed set of 0 reps; a slot with no exercise
            "21/11/18,,,176,Squat,,135,5,5,5,5,0,,,,,,,,,Deadlift,,225,5",
            # a row longer than the header: broken, rejected once
            "23/11/18,,80,,Squat,62.5,,5,5,5,5,5" + ",x" * 40,
        ]
    )
    text += "\n"
    assert detect(text.encode()) is stronglifts_csv
    outcome = workspace.ingest("u1/spreadsheet-stronglifts.csv", text)
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "stronglifts_csv", 5 + 4 + 2 + 4 + 1, 1, 1,
    )  # fmt: skip
    assert (outcome.date_order, outcome.date_order_source) == ("dmy", "file")
    stored = workspace.query(
        "SELECT performed_at::DATE, exercise_raw, count(*), list(reps ORDER BY set_index), "
        "min(load_unit), round(min(load_kg), 3) FROM sets GROUP BY ALL ORDER BY ALL"
    )
    lb = 0.45359237
    assert stored == [
        (date(2018, 11, 19), "Bench Press", 4, [5, 5, 5, 4], "kg", 45.0),
        (date(2018, 11, 19), "Chinups", 2, [8, 7], "kg", 0.0),  # unit of the body weight
        (date(2018, 11, 19), "Squat", 5, [5, 5, 5, 5, 5], "kg", 60.0),
        (date(2018, 11, 21), "Deadlift", 1, [5], "lb", round(225 * lb, 3)),
        (date(2018, 11, 21), "Squat", 4, [5, 5, 5, 5], "lb", round(135 * lb, 3)),
    ]
    ((line, errors),) = workspace.query("SELECT source_line, errors FROM rejects")
    assert line == 4 and "expected at most 44 fields" in json.loads(errors)[0]["message"]


def test_three_slots_and_month_first(workspace: Workspace) -> None:
    text = header(3) + "\n05/16/18,,82,,Squat,20,,5,5,5,5,5,Bench Press,20,,5,5,5,5,5\n"
    outcome = workspace.ingest("u1/sl.csv", text)
    assert (outcome.loaded, outcome.date_order) == (10, "mdy")
    assert workspace.scalar("SELECT min(performed_at)::DATE FROM sets") == date(2018, 5, 16)


def test_an_earlier_files_order_reads_dates_that_do_not_show_theirs(workspace: Workspace) -> None:
    first = workspace.ingest("u1/a.csv", header(3) + "\n05/16/18,,82,,Squat,20,,5,5,5,5,5\n")
    assert (first.date_order, first.date_order_source) == ("mdy", "file")
    # 06/01/18: the first of June read month first, as the earlier file was.
    later = workspace.ingest("u1/b.csv", header(3) + "\n06/01/18,,82,,Squat,22.5,,5,5,5,5,5\n")
    assert (later.status, later.date_order, later.date_order_source) == (
        "loaded", "mdy", "earlier_files",
    )  # fmt: skip
    assert workspace.scalar("SELECT max(performed_at)::DATE FROM sets") == date(2018, 6, 1)
    # Another athlete's file is not read by u1's: nothing says, and it fails with the fix.
    other = workspace.ingest("u2/b.csv", header(3) + "\n06/01/18,,82,,Squat,22.5,,5,5,5,5,5\n")
    assert other.status == "failed" and "'06/01/18'" in (other.error or "")
    assert 'date_order = "dmy" or "mdy"' in (other.error or "")
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0


def test_a_csv_of_another_shape_is_not_stronglifts() -> None:
    assert not stronglifts_csv.detect(b"Date,Exercise,Reps,Weight\n")
    assert not stronglifts_csv.detect(header(3).replace("Set ", "Rep ").encode())


@needs_real_data
def test_detection_claims_only_the_stronglifts_export() -> None:
    for path in sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.name != "README.md"):
        head = path.read_bytes()[:HEAD_BYTES]
        assert stronglifts_csv.detect(head) == (path.name == "stronglifts_mdy.csv"), path


def independent_reading() -> list[tuple[date, str, int, float]]:
    """(day, exercise, reps, kg) of each filled set cell, read with Python's csv module: a row
    may stop short of the header, each slot is `Exercise N`, its weights, its `Set k` cells."""
    with (REAL_DATA / REAL).open(newline="", encoding="utf-8-sig") as handle:
        header, *rows = list(csv.reader(handle))
    starts = [i for i, name in enumerate(header) if name.startswith("Exercise ")]
    found = []
    for row in rows:
        cells = row + [""] * (len(header) - len(row))
        day = datetime.strptime(cells[0], "%m/%d/%y").date()
        for start, end in zip(starts, [*starts[1:], len(header)], strict=True):
            exercise, kg, lb = cells[start : start + 3]
            for reps in cells[start + 3 : end]:
                if exercise and reps:
                    load = float(kg) if kg else float(lb) * 0.45359237 if lb else 0.0
                    found.append((day, exercise, int(reps), load))
    return found


@needs_real_data
def test_real_export_matches_an_independent_reading(workspace: Workspace) -> None:
    cells = independent_reading()
    done = [c for c in cells if c[2] > 0]  # a set of 0 reps was not done: no set
    outcome = workspace.ingest_real(REAL)
    assert (outcome.format, outcome.status, outcome.unit) == ("stronglifts_csv", "loaded", "kg")
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (
        len(done),
        0,
        len(cells) - len(done),
    )
    assert (outcome.date_order, outcome.date_order_source) == ("mdy", "file")
    stored = workspace.query(
        "SELECT count(*), sum(reps), sum(reps * load_kg), min(performed_at)::DATE, "
        "max(performed_at)::DATE, count(DISTINCT session_id) FROM sets"
    )[0]
    days = sorted({c[0] for c in done})
    assert stored[:2] == (len(done), sum(c[2] for c in done))
    assert stored[2] == pytest.approx(sum(c[2] * c[3] for c in done))
    assert stored[3:] == (days[0], days[-1], len(days))
    per_exercise = {}
    for _, exercise, _, _ in done:
        per_exercise[exercise] = per_exercise.get(exercise, 0) + 1
    assert dict(workspace.query("SELECT exercise_raw, count(*) FROM sets GROUP BY 1")) == (
        per_exercise
    )
