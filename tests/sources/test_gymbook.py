"""GymBook (sources/gymbook_csv.py): recognised by structure in any app language, its own words
for set types read from its header, reps or a time, decimal commas, the unit in the cell,
skipped sets not sets, muscle groups kept; the real Italian export against an independent
reading with Python's csv module."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime

import pytest

from sources import HEAD_BYTES, detect, gymbook_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

REAL = "gymbook/gymbook_italian.csv"
ITALIAN = (
    "Data,Programma,Orario,Esercizio,Zona,Gruppi muscolari (Primari),"
    "Gruppi muscolari (Secondari),Set / Set di riscaldamento / Set di defaticamento,"
    "Ripetizioni / Tempo,Peso / Distanza,Appunti,Saltato"
)
# The same layout as the app would write it in English (no sample of it exists): its words
# come from its own header, not from a list of languages.
ENGLISH = (
    "Date,Workout,Time,Exercise,Region,Muscle groups (Primary),Muscle groups (Secondary),"
    "Set / Warm-up Set / Cool-down Set,Reps / Time,Weight / Distance,Notes,Skipped"
)


def italian(*rows: str) -> str:
    return "\n".join([ITALIAN, *rows]) + "\n"


BENCH = '"Panca Piana",Torace,"Pettorali","Muscoli della spalla, Estensori del braccio"'


def test_every_quirk_of_a_gymbook_export(workspace: Workspace) -> None:
    text = italian(
        f'13/01/25,"Giorno A",19:30,{BENCH},Set di riscaldamento,"12 ripetizioni","20,00 kg",,No',
        f'13/01/25,"Giorno A",19:32,{BENCH},Set,"10 ripetizioni","42,50 kg",,No',
        f'13/01/25,"Giorno A",19:35,{BENCH},Set,"10 ripetizioni","42,50 kg",,Si',  # skipped
        f'13/01/25,"Giorno A",19:38,{BENCH},Set,"8 ripetizioni","95 lb",,No',
        '13/01/25,"Giorno A",19:50,"Plank",Addome,"Addominali","",Set,"60 secondi","0,00 kg",,No',
        '13/01/25,"Giorno A",19:55,"Tapis",Cardio,"","",Set di defaticamento,"6 minuti",'
        '"0,55 km",,No',
        '13/01/25,"Giorno A",19:58,"Tapis",Cardio,"","",Set,"5 minuti","1,2 mi",,Forse',
    )
    assert detect(text.encode()) is gymbook_csv
    outcome = workspace.ingest("u1/GymBook-Logs.csv", text)
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "gymbook_csv", 5, 1, 1,
    )  # fmt: skip
    assert (outcome.date_order, outcome.date_order_source) == ("dmy", "file")
    stored = workspace.query(
        "SELECT performed_at, exercise_raw, set_index, set_type, reps, round(load_kg, 4), "
        "load_unit, duration_s, distance_m FROM sets ORDER BY performed_at"
    )
    at = [datetime(2025, 1, 13, 19, minute, tzinfo=UTC) for minute in (30, 32, 38, 50, 55)]
    assert stored == [
        (at[0], "Panca Piana", 1, "warmup", 12, 20.0, "kg", None, None),
        (at[1], "Panca Piana", 2, "working", 10, 42.5, "kg", None, None),
        (at[2], "Panca Piana", 3, "working", 8, round(95 * 0.45359237, 4), "lb", None, None),
        (at[3], "Plank", 1, "working", None, 0.0, "kg", 60.0, None),
        (at[4], "Tapis", 1, "warmup", None, 0.0, "kg", 360.0, 550.0),  # a cool-down
    ]
    ((line, errors),) = workspace.query("SELECT source_line, errors FROM rejects")
    (error,) = json.loads(errors)
    assert (line, error["rule"]) == (8, "structure") and "'Forse'" in error["message"]
    groups = workspace.query(
        "SELECT exercise_key, role, muscle_group FROM exercise_muscle_groups ORDER BY ALL"
    )
    assert groups == [
        ("panca piana", "category", "Torace"),
        ("panca piana", "primary", "Pettorali"),
        ("panca piana", "secondary", "Estensori del braccio"),
        ("panca piana", "secondary", "Muscoli della spalla"),
        ("plank", "category", "Addome"),
        ("plank", "primary", "Addominali"),
        ("tapis", "category", "Cardio"),
    ]


def test_the_words_come_from_the_header_in_any_language(workspace: Workspace) -> None:
    rows = [
        '01/20/25,"Day A",07:00,"Squat",Legs,"Quadriceps","Glutes",Warm-up Set,"10 reps",'
        '"40.00 kg",,No',
        '01/20/25,"Day A",07:05,"Squat",Legs,"Quadriceps","Glutes",Set,"5 reps","100.00 kg",,No',
        '01/20/25,"Day A",07:09,"Squat",Legs,"Quadriceps","Glutes",Set,"5 reps","100.00 kg",,Yes',
        '01/20/25,"Day A",07:20,"Bike",Cardio,"","",Cool-down Set,"2 minutes","1.5 km",,No',
    ]
    text = "\n".join([ENGLISH, *rows]) + "\n"
    assert detect(text.encode()) is gymbook_csv
    outcome = workspace.ingest("u1/GymBook-Logs-en.csv", text)
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (3, 0, 1)
    assert outcome.date_order == "mdy"  # 20 cannot be a month
    stored = workspace.query("SELECT set_type, reps, load_kg, duration_s FROM sets ORDER BY 1, 2")
    assert stored == [("warmup", 10, 40.0, None), ("warmup", None, 0.0, 120.0),
                      ("working", 5, 100.0, None)]  # fmt: skip


def test_dates_that_do_not_show_their_order_follow_the_setting(workspace: Workspace) -> None:
    text = italian(f'05/01/25,"A",19:30,{BENCH},Set,"10 ripetizioni","40,00 kg",,No')
    failed = workspace.ingest("u1/a.csv", text)
    assert failed.status == "failed"
    assert "date_order" in (failed.error or "") and "'05/01/25 19:30'" in (failed.error or "")
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0  # failed whole, not kept
    outcome = workspace.ingest("u1/a.csv", athletes={"u1": {"date_order": "dmy"}})
    assert (outcome.status, outcome.date_order, outcome.date_order_source) == (
        "loaded", "dmy", "setting",
    )  # fmt: skip
    assert workspace.scalar("SELECT performed_at::DATE FROM sets") == date(2025, 1, 5)


def test_a_csv_of_another_shape_is_not_gymbook() -> None:
    assert not gymbook_csv.detect(ITALIAN.replace("Set / Set di", "Set di").encode())
    assert not gymbook_csv.detect(ITALIAN.replace(" (Secondari)", "").encode())
    assert not gymbook_csv.detect(ITALIAN.rsplit(",", 1)[0].encode())


@needs_real_data
def test_detection_claims_only_the_gymbook_export() -> None:
    for path in sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.name != "README.md"):
        head = path.read_bytes()[:HEAD_BYTES]
        assert gymbook_csv.detect(head) == (path.name == "gymbook_italian.csv"), path


def independent_reading() -> tuple[list[dict[str, str]], int]:
    """The real export's sets (rows not skipped, with reps or a time) and its skipped rows."""
    with (REAL_DATA / REAL).open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    done = [r for r in rows if r["Saltato"] == "No"]
    return done, len(rows) - len(done)


def number(cell: str) -> tuple[float, str]:
    value, unit = cell.split(" ")
    return float(value.replace(",", ".")), unit


@needs_real_data
def test_real_export_matches_an_independent_reading(workspace: Workspace) -> None:
    done, skipped = independent_reading()
    outcome = workspace.ingest_real(REAL)
    assert (outcome.format, outcome.status) == ("gymbook_csv", "loaded")
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (len(done), 0, skipped)
    assert (outcome.unit, outcome.date_order, outcome.date_order_source) == ("kg", "dmy", "file")
    kinds = {"Set": "working", "Set di riscaldamento": "warmup", "Set di defaticamento": "warmup"}
    expected: dict[str, int] = {}
    for r in done:
        kind = kinds[r["Set / Set di riscaldamento / Set di defaticamento"]]
        expected[kind] = expected.get(kind, 0) + 1
    assert dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY 1")) == expected
    reps = [int(r["Ripetizioni / Tempo"].split()[0]) for r in done
            if r["Ripetizioni / Tempo"].endswith("ripetizioni")]  # fmt: skip
    seconds = {"secondi": 1, "minuti": 60}
    times = [int(r["Ripetizioni / Tempo"].split()[0]) * seconds[r["Ripetizioni / Tempo"].split()[1]]
             for r in done if not r["Ripetizioni / Tempo"].endswith("ripetizioni")]  # fmt: skip
    volume = sum(
        int(r["Ripetizioni / Tempo"].split()[0]) * number(r["Peso / Distanza"])[0]
        for r in done
        if r["Ripetizioni / Tempo"].endswith("ripetizioni")
    )
    km = sum(number(r["Peso / Distanza"])[0] for r in done if r["Peso / Distanza"].endswith("km"))
    stored = workspace.query(
        "SELECT sum(reps), count(reps), sum(duration_s), sum(reps * load_kg), sum(distance_m) "
        "FROM sets"
    )[0]
    assert stored[:3] == (sum(reps), len(reps), sum(times))
    assert stored[3] == pytest.approx(volume) and stored[4] == pytest.approx(km * 1000)
    days = sorted(datetime.strptime(r["Data"], "%d/%m/%y").date() for r in done)
    assert workspace.query("SELECT min(performed_at)::DATE, max(performed_at)::DATE FROM sets")[
        0
    ] == (days[0], days[-1])
    workouts = {(r["Data"], r["Programma"]) for r in done}
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(workouts)
    primary = {(r["Esercizio"], g.strip()) for r in done for g in
               r["Gruppi muscolari (Primari)"].split(",") if g.strip()}  # fmt: skip
    stored_primary = workspace.query(
        "SELECT exercise_raw, muscle_group FROM exercise_muscle_groups WHERE role = 'primary'"
    )
    assert primary <= set(stored_primary)
