"""Layouts and quirks with no real sample, built from the notes in ../shared/data/real/README."""

from __future__ import annotations

import polars as pl

from schemas.set_row import RowContext
from schemas.validate import validate
from sources import detect, read
from tests.conftest import Workspace

STRONG_UNIT_HEADER = (
    "Date;Workout Name;Exercise Name;Set Order;Weight;Weight Unit;Reps;RPE;Distance;"
    "Distance Unit;Seconds;Notes;Workout Notes;Workout Duration"
)


def sets_of(workspace: Workspace, name: str, text: str) -> tuple[pl.DataFrame, int, pl.DataFrame]:
    path = workspace.write(f"u1/{name}", text)
    parsed = read(path)
    validated = validate(parsed.rows, RowContext(), "u1")
    return validated.sets, parsed.skipped, validated.rejects


def test_strong_unit_column_layout_with_every_quirk(workspace: Workspace) -> None:
    rows = [
        '2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);W;45;lbs;10;;;;;"warm up\nslowly";;1h',
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);1;135.00000001;lbs;8;8;;;;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);2;135;lbs;8.0;9;;;;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);D;95;lbs;12;;;;;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);F;135;lbs;6;10;;;;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);Rest Timer;;;;;;;90;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);Note;;;;;;;;felt strong;;1h",
        "2025-01-30 12:34:56 pm;Push;Plank;1;;;0;;;;60;;;1h",
        "2025-01-30 12:34:56 pm;Push;Bench Press (Barbell);3;;;;;;;;;;1h",
        "2025-01-30 12:34:56 pm;Push;Row;1;;;;;2;km;480;;;1h",
    ]
    text = STRONG_UNIT_HEADER + "\n" + "\n".join(rows) + "\n"
    assert detect(text.encode()).FORMAT == "strong_csv"
    sets, skipped, rejects = sets_of(workspace, "strong-units.csv", text)
    assert rejects.height == 0
    assert skipped == 3  # the rest timer, the note, the unlogged set 3
    bench = sets.filter(pl.col("exercise_raw") == "Bench Press (Barbell)").sort("set_index")
    assert bench["set_type"].to_list() == ["warmup", "working", "working", "drop", "failure"]
    assert bench["set_index"].to_list() == [1, 2, 3, 4, 5]
    assert bench["load_unit"].unique().to_list() == ["lb"]
    assert bench["load_kg"][1] == bench["load_kg"][2] == 135 * 0.45359237  # float dust gone
    assert bench["reps"].to_list() == [10, 8, 8, 12, 6]
    assert str(bench["performed_at"][0]) == "2025-01-30 12:34:56+00:00"
    plank = sets.filter(pl.col("exercise_raw") == "Plank").row(0, named=True)
    assert (plank["reps"], plank["duration_s"]) == (None, 60.0)
    row = sets.filter(pl.col("exercise_raw") == "Row").row(0, named=True)
    assert (row["distance_m"], row["duration_s"]) == (2000.0, 480.0)


def test_strong_unit_column_layout_with_commas_and_blank_unit(workspace: Workspace) -> None:
    header = STRONG_UNIT_HEADER.replace(";", ",")
    text = header + "\n2025-02-01 07:00:00,A,Squat (Barbell),1,100,,5,,,,,,,\n"
    sets, _, rejects = sets_of(workspace, "strong-comma.csv", text)
    assert rejects.height == 0
    assert (sets["load_unit"][0], sets["load_kg"][0]) == ("kg", 100.0)  # blank unit: config


def test_strong_bad_values_are_rejected_with_the_value_written(workspace: Workspace) -> None:
    text = (
        STRONG_UNIT_HEADER
        + "\n31/01/2025;A;Squat;1;100;kg;5;;;;;;;"
        + "\n2025-01-31 07:00:00;A;Squat;2;heavy;kg;5;;;;;;;\n"
    )
    sets, _, rejects = sets_of(workspace, "strong-bad.csv", text)
    assert sets.height == 0
    errors = " ".join(rejects["errors"].to_list())
    assert '"value": "31/01/2025"' in errors and '"value": "heavy"' in errors


def test_fitnotes_older_header_with_the_unit_in_it(workspace: Workspace) -> None:
    text = (
        "Date,Exercise,Category,Weight (kgs),Reps,Distance,Distance Unit,Time\n"
        "2024-03-01,Deadlift,Back,140.0,5,,,\n"
        "2024-03-01,Deadlift,Back,140.0,5,,,\n"
        "2024-03-01,Treadmill,Cardio,,,1.5,km,0:10:30\n"
    )
    assert detect(text.encode()).FORMAT == "fitnotes_csv"
    sets, _, rejects = sets_of(workspace, "fitnotes-old.csv", text)
    assert rejects.height == 0
    assert sets["set_index"].to_list() == [1, 2, 1]
    assert sets["load_unit"].to_list()[:2] == ["kg", "kg"]
    cardio = sets.row(2, named=True)
    assert (cardio["distance_m"], cardio["duration_s"], cardio["reps"]) == (1500.0, 630.0, None)


def test_fitnotes_older_header_in_lbs(workspace: Workspace) -> None:
    text = "Date,Exercise,Category,Weight (lbs),Reps\n2024-03-01,Curl,Arms,30,12\n"
    sets, _, _ = sets_of(workspace, "fitnotes-lbs.csv", text)
    assert (sets["load_unit"][0], sets["load_kg"][0]) == ("lb", 30 * 0.45359237)


def test_same_workout_in_two_apps_stays_two_sets_of_rows(workspace: Workspace) -> None:
    from datetime import date

    from flows import discovery, pipeline

    workspace.write(
        "u1/strong.csv",
        "Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
        "Workout Notes,RPE\n2026-11-16 07:00:00,A,Squat,1,100,5,0,0,,,\n",
    )
    workspace.write(
        "u1/canonical.csv", "performed_at,exercise,reps,load\n2026-11-16T07:00:00,Squat,5,100\n"
    )
    config = workspace.config()
    pipeline.execute(config, discovery.inbox_files(config)[0], "run", date(2026, 11, 17))
    assert workspace.query("SELECT source_format FROM sets ORDER BY 1") == [
        ("canonical_csv",),
        ("strong_csv",),
    ]
