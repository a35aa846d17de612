"""Fitbod's WorkoutExport.csv: the real sample against an independent reading, and every quirk
in small inline fixtures (leading spaces, offset dates, warm-ups, rows that are not sets,
timed and distance rows, lb recovered from kg, bad values)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sources import HEAD_BYTES, UnreadableFile, detect, fitbod_csv, read
from tests.conftest import REAL_DATA, Workspace, needs_real_data

REAL = "fitbod/fitbod_WorkoutExport.csv"
REAL_2019 = "fitbod/fitbod_2019_layout.csv"
HEADER = (
    "Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,Resistance,isWarmup,Note,"
    "multiplier"
)
LB_PER_KG = 2.20462  # Fitbod's own factor


def instant(text: str) -> float:
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z").timestamp()


def is_set(row: dict[str, str]) -> bool:
    return any(float(row[c]) > 0 for c in ("Reps", "Duration(s)", "Distance(m)"))


@needs_real_data
def test_real_export_matches_an_independent_reading(workspace: Workspace) -> None:
    with (REAL_DATA / REAL).open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    done = [r for r in rows if is_set(r)]
    result = workspace.ingest_real(REAL)
    assert (result.format, result.status) == ("fitbod_csv", "loaded")
    assert (result.loaded, result.rejected, result.skipped) == (len(done), 0, len(rows) - len(done))

    warmups = sum(r["isWarmup"].strip() == "true" for r in done)
    types = dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY ALL"))
    assert types == {"warmup": warmups, "working": len(done) - warmups}
    assert warmups > 0

    reps = sum(int(r["Reps"]) for r in done)
    volume = sum(int(r["Reps"]) * float(r["Weight(kg)"]) for r in done)
    stored_reps, stored_volume = workspace.query("SELECT sum(reps), sum(reps * load_kg) FROM sets")[
        0
    ]
    assert stored_reps == reps
    assert stored_volume == pytest.approx(volume, rel=1e-6)
    timed = sum(int(r["Reps"]) == 0 for r in done)
    assert workspace.scalar("SELECT count(*) FROM sets WHERE reps IS NULL") == timed > 0

    # Date is the workout's start, the same on every set of it: one session per Date.
    starts = {r["Date"] for r in rows}
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(starts)
    first, last = workspace.query(
        "SELECT min(epoch(performed_at)), max(epoch(performed_at)) FROM sets"
    )[0]
    assert (first, last) == (min(map(instant, starts)), max(map(instant, starts)))
    days = (datetime.fromtimestamp(first, UTC).date(), datetime.fromtimestamp(last, UTC).date())
    assert days == (date(2018, 8, 20), date(2022, 1, 5))  # hand-checked

    # 17.5 lb written as 7.937875915123695 kg: stored as kg, advised in lb.
    pounds = sum(r["Weight(kg)"] == "7.937875915123695" for r in done)
    stored = workspace.query(
        "SELECT load_unit, count(*) FROM sets WHERE abs(load_kg - 7.9378759) < 1e-6 GROUP BY ALL"
    )
    assert stored == [("lb", pounds)]
    assert pounds > 0
    # Every loaded exercise in this file is in round pounds; the bodyweight ones stay kg.
    loaded = {r["Exercise"] for r in done if float(r["Weight(kg)"]) > 0}
    assert all(
        abs(float(w) * LB_PER_KG * 4 - round(float(w) * LB_PER_KG * 4)) < 1e-6
        for w in {r["Weight(kg)"] for r in done}
    )
    units = dict(
        workspace.query("SELECT exercise_raw, list(DISTINCT load_unit) FROM sets GROUP BY 1")
    )
    assert {e for e, u in units.items() if u == ["lb"]} == loaded
    assert {tuple(u) for e, u in units.items() if e not in loaded} == {("kg",)}


@needs_real_data
def test_detection_claims_only_the_fitbod_exports() -> None:
    ours = {Path(REAL).name, Path(REAL_2019).name}
    for path in sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.name != "README.md"):
        head = path.read_bytes()[:HEAD_BYTES]
        assert fitbod_csv.detect(head) == (path.name in ours), path
    for name in (REAL, REAL_2019):
        assert detect((REAL_DATA / name).read_bytes()[:HEAD_BYTES]) is fitbod_csv


WORKOUT = "2023-04-01 09:15:00 +0200"
EVENING = "2023-04-01 18:00:00 -0500"


def fixture(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


QUIRKS = fixture(
    f"{WORKOUT},Barbell Squat, 5,60.0,0.0,0.0,0.0,0.0,true,, 1.0",
    f"{WORKOUT},Barbell Squat, 5,102.5,0.0,0.0,0.0,0.0,false,, 1.0",
    f"{WORKOUT},Dumbbell Curl, 10,7.937875915123695,0.0,0.0,0.0,0.0,false,, 2.0",
    f"{WORKOUT},Dumbbell Curl, 8,9.071858188712795,0.0,0.0,0.0,0.0,false,Heavy today, 2.0",
    f"{WORKOUT},Dumbbell Curl, 0,9.071858188712795,0.0,0.0,0.0,0.0,false,, 2.0",
    f"{WORKOUT},Barbell Squat, 0,0.0,0.0,0.0,0.0,0.0,false,felt good, 1.0",
    f"{WORKOUT},Plank, 0,0.0,60.0,0.0,0.0,0.0,false,, 0.0",
    f"{WORKOUT},Walking, 0,0.0,1229.0,1101.3948,0.0,0.0,false,, 0.0",
    f"{WORKOUT},Push Up, 12,0.0,30.0,0.0,0.0,0.0,false,, 1.0",
    f"{EVENING},Barbell Squat, 3,110.0,0.0,0.0,0.0,0.0,false,, 1.0",
)


def test_quirks(workspace: Workspace) -> None:
    assert detect(QUIRKS.encode()) is fitbod_csv
    result = workspace.ingest("u1/WorkoutExport.csv", QUIRKS)
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "fitbod_csv",
        8,
        0,
        2,  # the curl with nothing logged, the squat row that only holds a note
    )
    sets = {
        (e, i): (t, r, kg, u, s, m)
        for e, i, t, r, kg, u, s, m in workspace.query(
            "SELECT exercise_raw, set_index, set_type, reps, load_kg, load_unit, duration_s, "
            "distance_m FROM sets"
        )
    }
    # Leading spaces go; isWarmup true is a warm-up; round kg stays kg.
    assert sets["Barbell Squat", 1] == ("warmup", 5, 60.0, "kg", None, None)
    assert sets["Barbell Squat", 2] == ("working", 5, 102.5, "kg", None, None)
    # Round pounds written in kg are advised in lb; the multiplier (2.0) leaves the load alone.
    assert sets["Dumbbell Curl", 1][:4] == ("working", 10, pytest.approx(7.9378759), "lb")
    assert sets["Dumbbell Curl", 2][:4] == ("working", 8, pytest.approx(9.0718582), "lb")
    assert ("Dumbbell Curl", 3) not in sets
    # Reps 0 with a time or a distance is a timed set: no reps. Reps and a time are both kept.
    assert sets["Plank", 1] == ("working", None, 0.0, "kg", 60.0, None)
    assert sets["Walking", 1][1:] == (None, 0.0, "kg", 1229.0, 1101.3948)
    assert sets["Push Up", 1][1:] == (12, 0.0, "kg", 30.0, None)
    # The offset is kept, so the instant is exact; the evening workout is a session of its own.
    stamps = workspace.query(
        "SELECT epoch(performed_at), count(DISTINCT session_id) FROM sets GROUP BY ALL ORDER BY 1"
    )
    assert stamps == [(instant(WORKOUT), 1), (instant(EVENING), 1)]
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == 2
    squat_evening = workspace.query(
        "SELECT set_index FROM sets WHERE epoch(performed_at) = ?", [instant(EVENING)]
    )
    assert squat_evening == [(1,)]  # numbering restarts with the workout


def test_bad_values_are_rejected_with_what_was_written(workspace: Workspace) -> None:
    text = fixture(
        "2023-04-02 10:00:00 +0000,Barbell Squat, five,100.0,0.0,0.0,0.0,0.0,false,, 1.0",
        "2023-04-02 10:00:00 +0000,Barbell Squat, 5,100.0,0.0,0.0,0.0,0.0,maybe,, 1.0",
        "02/04/2023 10:00,Barbell Squat, 5,100.0,0.0,0.0,0.0,0.0,false,, 1.0",
        "2023-04-02 10:00:00 +0000,Barbell Squat, 5,heavy,0.0,0.0,0.0,0.0,false,, 1.0",
        "2023-04-02 10:00:00 +0000,Barbell Squat, 5,100.0,0.0,0.0",
        "2023-04-02 10:00:00 +0000,Barbell Squat, 4,100.0,0.0,0.0,0.0,0.0,false,, 1.0",
    )
    result = workspace.ingest("u1/WorkoutExport.csv", text)
    assert (result.loaded, result.rejected, result.skipped) == (1, 5, 0)
    rejects = dict(workspace.query("SELECT source_line, errors FROM rejects"))
    found = {
        line: {(e["field"], e["value"], e["rule"]) for e in json.loads(errors)}
        for line, errors in rejects.items()
    }
    assert found[2] == {("reps", "five", "int_text")}
    assert found[3] == {("set_type", "maybe", "choice_text")}
    assert found[4] == {("performed_at", "02/04/2023 10:00", "ambiguous_date")}
    assert found[5] == {("load", "heavy", "decimal_text")}
    ((field, _, rule),) = found[6]
    assert (field, rule) == ("", "structure")
    assert "expected 11 fields" in rejects[6]
    assert workspace.query("SELECT reps, load_kg FROM sets") == [(4, 100.0)]


def test_header_without_a_weight_column_is_not_fitbod() -> None:
    head = b"Date,Exercise,Reps,Duration(s),isWarmup\n"
    assert not fitbod_csv.detect(head)
    assert fitbod_csv.detect(HEADER.encode() + b"\n")
    assert fitbod_csv.detect(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")


def test_the_weight_unit_comes_from_the_header(workspace: Workspace, tmp_path: Path) -> None:
    lbs = fixture(f"{WORKOUT},Barbell Squat, 5,225.0,0.0,0.0,0.0,0.0,false,, 1.0").replace(
        "Weight(kg)", "Weight(lbs)"
    )
    result = workspace.ingest("u1/WorkoutExport.csv", lbs)
    assert (result.format, result.loaded) == ("fitbod_csv", 1)
    stored = workspace.query("SELECT load_unit, load_kg FROM sets")
    assert stored == [("lb", pytest.approx(225 * 0.45359237))]
    stone = tmp_path / "stone.csv"
    stone.write_text(lbs.replace("Weight(lbs)", "Weight(st)"))
    with pytest.raises(UnreadableFile, match=r"'Weight\(st\)' names no kg or lb"):
        read(stone)


HEADER_2019 = "Date,Exercise,Sets,Reps,Weight,isWarmup,Note"


def test_the_2019_layout(workspace: Workspace) -> None:
    text = "\n".join(
        [
            HEADER_2019,
            "2019-02-13,Chin Up,1,5,0,,",
            "2019-02-13,Deadlift,1,5,61.23504277,TRUE,",  # 135 lb, a warm-up
            "2019-02-13,Deadlift,1,5,102.0582583,,felt heavy",  # 225 lb
            "2019-02-13,Deadlift,1,0,102.0582583,,",  # nothing done: no set
            "2019-02-13,Deadlift,3,5,102.0582583,,",  # not one set a row: rejected with why
            "2019-02-15,Chin Up,1,6,0,,",
        ]
    )
    assert detect(text.encode()) is fitbod_csv
    result = workspace.ingest("u1/workouts.csv", text + "\n")
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "fitbod_csv",
        4,
        1,
        1,
    )
    stored = workspace.query(
        "SELECT performed_at::DATE, exercise_raw, set_index, set_type, reps, round(load_kg, 4), "
        "load_unit FROM sets ORDER BY ALL"
    )
    assert stored == [
        (date(2019, 2, 13), "Chin Up", 1, "working", 5, 0.0, "kg"),
        (date(2019, 2, 13), "Deadlift", 1, "warmup", 5, round(135 * 0.45359237, 4), "lb"),
        (date(2019, 2, 13), "Deadlift", 2, "working", 5, round(225 * 0.45359237, 4), "lb"),
        (date(2019, 2, 15), "Chin Up", 1, "working", 6, 0.0, "kg"),
    ]
    ((errors,),) = workspace.query("SELECT errors FROM rejects")
    assert "Sets is '3'" in errors
    # A day is a session: one per date.
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == 2


@needs_real_data
def test_the_real_2019_export_matches_an_independent_reading(workspace: Workspace) -> None:
    with (REAL_DATA / REAL_2019).open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["Sets"] for r in rows} == {"1"}
    done = [r for r in rows if int(r["Reps"]) > 0]
    # An assisted lift is written as a negative weight: no load below 0 is stored.
    negative = [r for r in done if float(r["Weight"]) < 0]
    result = workspace.ingest_real(REAL_2019)
    assert (result.format, result.status, result.unit) == ("fitbod_csv", "loaded", "kg")
    assert (result.loaded, result.rejected, result.skipped) == (
        len(done) - len(negative), len(negative), len(rows) - len(done),
    )  # fmt: skip
    kept = [r for r in done if float(r["Weight"]) >= 0]
    warmups = sum(r["isWarmup"] == "TRUE" for r in kept)
    assert dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY 1")) == {
        "warmup": warmups, "working": len(kept) - warmups,
    }  # fmt: skip
    volume = sum(int(r["Reps"]) * float(r["Weight"]) for r in kept)
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(volume)
    days = sorted(date.fromisoformat(r["Date"]) for r in kept)
    assert workspace.query("SELECT min(performed_at)::DATE, max(performed_at)::DATE FROM sets")[
        0
    ] == (days[0], days[-1])
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(set(days))
    # Kg converted from a lifter's pounds: advice in lb wherever every load of a lift is one.
    assert workspace.scalar("SELECT count(*) FROM sets WHERE load_unit = 'lb'") > len(kept) / 2
    rules = {json.loads(e)[0]["rule"] for (e,) in workspace.query("SELECT errors FROM rejects")}
    assert rules <= {"greater_than_equal"}
