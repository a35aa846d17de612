"""Every real export in ../shared/data/real loads with its real counts (or fails row by row).

The expected numbers come from reading each file independently with Python's csv module.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from tests.conftest import REAL_DATA, Workspace, needs_real_data

pytestmark = needs_real_data


def load(workspace: Workspace, relative: str, athlete: str = "u1") -> runs.RunSummary:
    target = workspace.inbox / athlete / Path(relative).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(REAL_DATA / relative, target)
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    return pipeline.execute(config, files, "ingest", None)


def dict_rows(relative: str, delimiter: str = ",") -> list[dict[str, str]]:
    with (REAL_DATA / relative).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def outcome(summary: runs.RunSummary):
    ((_, result),) = summary.files
    return result


def session_days(workspace: Workspace) -> tuple[date, date]:
    first, last = workspace.query(
        "SELECT min(performed_at)::DATE, max(performed_at)::DATE FROM sets"
    )[0]
    return first, last


def test_strong_rest_timer_layout(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_comma_rest_timer.csv")
    timers = sum(1 for r in rows if r["Set Order"] == "Rest Timer")
    result = outcome(load(workspace, "strong/strong_comma_rest_timer.csv"))
    assert (result.format, result.status) == ("strong_csv", "loaded")
    assert (result.loaded, result.rejected, result.skipped) == (len(rows) - timers, 0, timers)
    assert timers == 109
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("kg",)]  # from config
    assert session_days(workspace) == (date(2025, 6, 3), date(2025, 6, 15))
    workouts = {r["Date"] for r in rows}
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(workouts)


def test_strong_reps_written_as_floats(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_comma_no_notes.csv")
    result = outcome(load(workspace, "strong/strong_comma_no_notes.csv"))
    assert (result.loaded, result.rejected, result.skipped) == (len(rows), 0, 0)
    expected = sorted(int(float(r["Reps"])) for r in rows)
    assert [r[0] for r in workspace.query("SELECT reps FROM sets ORDER BY reps")] == expected


def test_strong_legacy_layout_keeps_float_kg(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_comma_legacy_float_kg.csv")
    result = outcome(load(workspace, "strong/strong_comma_legacy_float_kg.csv"))
    assert (result.loaded, result.rejected) == (len(rows), 0)
    loads = [r[0] for r in workspace.query("SELECT DISTINCT load_kg FROM sets")]
    assert any(abs(kg - 15 * 0.45359237) < 1e-6 for kg in loads)  # 6.80388555 kg = 15 lb
    assert session_days(workspace) == (date(2019, 2, 14), date(2019, 2, 14))


def test_strong_6x_semicolon_quoted(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_6x_semicolon_quoted.csv", delimiter=";")
    result = outcome(load(workspace, "strong/strong_6x_semicolon_quoted.csv"))
    assert (result.format, result.loaded, result.rejected) == ("strong_csv", len(rows), 0)
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("kg",)]
    assert workspace.scalar("SELECT max(load_kg) FROM sets") == max(
        float(r["Weight (kg)"]) for r in rows
    )
    assert session_days(workspace) == (date(2019, 3, 28), date(2019, 3, 31))


def test_strong_malformed_fails_row_by_row(workspace: Workspace) -> None:
    summary = load(workspace, "strong/strong_malformed.csv")
    result = outcome(summary)
    assert summary.exit_code == 0 and result.status == "loaded"
    assert (result.loaded, result.rejected) == (0, 2)
    errors = [json.loads(e) for (e,) in workspace.query("SELECT errors FROM rejects ORDER BY 1")]
    messages = " ".join(e[0]["message"] for e in errors)
    assert "expected 13 fields" in messages and "quote" in messages
    assert [line for (line,) in workspace.query("SELECT source_line FROM rejects ORDER BY 1")] == [
        2,
        3,
    ]


def measured(row: dict[str, str], *columns: str) -> bool:
    """Whether any of the row's `columns` holds a value other than zero (`0`, `0.0`, `0:00:00`):
    a row with none of reps, time and distance is not a set (DESIGN.md)."""
    return any(
        row[c].strip() and any(float(part) != 0 for part in row[c].split(":")) for c in columns
    )


@pytest.mark.parametrize(
    ("relative", "unit", "first", "last", "unlogged"),
    [
        ("hevy/hevy_kg.csv", "kg", date(2024, 7, 3), date(2025, 9, 15), 1),
        ("hevy/hevy_lbs.csv", "lb", date(2023, 9, 17), date(2024, 5, 28), 0),
    ],
)
def test_hevy_exports(
    workspace: Workspace, relative: str, unit: str, first: date, last: date, unlogged: int
) -> None:
    rows = dict_rows(relative)
    distance = "distance_km" if "distance_km" in rows[0] else "distance_miles"
    sets = [r for r in rows if measured(r, "reps", "duration_seconds", distance)]
    assert len(rows) - len(sets) == unlogged  # hevy_kg: a failure set of 0 reps and 0 seconds
    result = outcome(load(workspace, relative))
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "hevy_csv",
        len(sets),
        0,
        unlogged,
    )
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [(unit,)]
    assert session_days(workspace) == (first, last)
    types = dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY ALL"))
    hevy_types = {"normal": "working", "warmup": "warmup", "failure": "failure", "dropset": "drop"}
    expected: dict[str, int] = {}
    for r in sets:
        expected[hevy_types[r["set_type"]]] = expected.get(hevy_types[r["set_type"]], 0) + 1
    assert types == expected
    # Reps empty or 0 with a time or a distance: a timed set, its reps empty.
    timed = sum(1 for r in sets if not measured(r, "reps"))
    assert workspace.scalar("SELECT count(*) FROM sets WHERE reps IS NULL") == timed > 0
    assert workspace.scalar("SELECT count(*) FROM sets WHERE reps = 0") == 0
    weight = "weight_kg" if unit == "kg" else "weight_lbs"
    volume = sum(float(r["reps"] or 0) * float(r[weight] or 0) for r in sets)
    kg = 1.0 if unit == "kg" else 0.45359237
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(volume * kg)


def test_hevy_exercise_twice_in_a_workout_keeps_both_blocks(workspace: Workspace) -> None:
    rows = dict_rows("hevy/hevy_kg.csv")
    per_block: dict[tuple[str, str], list[bool]] = {}
    restarts = 0
    for r in rows:  # set_index restarts at 0 when an exercise comes back in the same workout
        key = (r["start_time"], r["exercise_title"])
        restarts += r["set_index"] == "0" and key in per_block
        per_block.setdefault(key, []).append(measured(r, "reps", "duration_seconds", "distance_km"))
    assert restarts > 0  # the file really has such workouts
    load(workspace, "hevy/hevy_kg.csv")
    stored = workspace.query(
        "SELECT count(*), max(set_index), count(DISTINCT set_index) FROM sets "
        "GROUP BY performed_at, exercise_raw ORDER BY ALL"
    )
    # Rows are numbered in file order before the ones that are not sets are left out: the last
    # set of a block keeps the row count as its number.
    expected = [
        (sum(sets), max(i + 1 for i, is_set in enumerate(sets) if is_set), sum(sets))
        for sets in per_block.values()
        if any(sets)
    ]
    assert sorted(expected) == stored


def test_fitnotes_per_row_units_and_date_only(workspace: Workspace) -> None:
    rows = dict_rows("fitnotes/fitnotes_lbs.csv")
    # A failed attempt is logged as 0 reps, with no time and no distance: not a set.
    sets = [r for r in rows if measured(r, "Reps", "Time", "Distance")]
    assert len(rows) - len(sets) == 17
    result = outcome(load(workspace, "fitnotes/fitnotes_lbs.csv"))
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "fitnotes_csv",
        len(sets),
        0,
        len(rows) - len(sets),
    )
    units = {"lbs": "lb", "kgs": "kg", "": "kg"}
    expected_units: dict[str, int] = {}
    for r in sets:
        expected_units[units[r["Weight Unit"]]] = expected_units.get(units[r["Weight Unit"]], 0) + 1
    stored_units = dict(workspace.query("SELECT load_unit, count(*) FROM sets GROUP BY ALL"))
    assert stored_units == expected_units
    assert session_days(workspace) == (date(2022, 9, 14), date(2025, 11, 12))
    days = {r["Date"] for r in sets}
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(days)


def test_every_real_export_loads_and_reloads_as_duplicate(workspace: Workspace) -> None:
    for relative in sorted(p.relative_to(REAL_DATA) for p in REAL_DATA.rglob("*.csv")):
        load(workspace, str(relative), athlete=relative.parts[0])
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    again = pipeline.execute(config, files, "run", date(2026, 1, 1))
    assert again.total("loaded") == 0 and again.exit_code == 0
    assert again.seen_before == len(files)


def test_overlapping_strong_exports_load_each_set_once(workspace: Workspace) -> None:
    source = (REAL_DATA / "strong/strong_comma_rest_timer.csv").read_text().splitlines()
    last_workout = source[-1].split(",")[0]
    earlier = [line for line in source if not line.startswith(last_workout)]
    first = workspace.write("u1/export-1.csv", "\n".join(earlier) + "\n")
    config = workspace.config()
    pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None)
    before = workspace.scalar("SELECT count(*) FROM sets")
    first.unlink()
    workspace.write("u1/export-2.csv", "\n".join(source) + "\n")
    summary = pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None)
    result = outcome(summary)
    assert result.unchanged == before
    new_sets = sum(
        1 for line in source if line.startswith(last_workout) and ",Rest Timer," not in line
    )
    assert result.loaded == new_sets > 0
