"""Strong by structure: any app language, the 2016 layout, set-type markers in every spelling.

Synthetic files follow ../shared/data/real/README.md; the real French and 2016 files are checked
against an independent reading with Python's csv module.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

import pytest

from flows import discovery, pipeline
from sources import detect, strong_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

# The classic layout's columns, translated: the same order, other names.
CLASSIC = {
    "en": "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,"
    "Notes,Workout Notes,RPE",
    "de": "Datum,Workout-Name,Dauer,Name der Übung,Satzreihenfolge,Gewicht,Wdh.,Distanz,"
    "Sekunden,Notizen,Workout-Notizen,RPE",
    # a language none of our hints know
    "ja": "日付,ワークアウト名,時間,エクササイズ名,セット順,重量,回数,距離,秒,メモ,"
    "ワークアウトメモ,RPE",
}
REST = {"en": "Rest Timer", "de": "Ruhezeit", "ja": "休憩タイマー"}


def classic(language: str) -> str:
    rest = REST[language]
    rows = [
        "2025-03-01 09:00:00,Push,1h,Bench Press (Barbell),1,60.0,10.0,0,0.0,,,",
        f"2025-03-01 09:00:00,Push,1h,Bench Press (Barbell),{rest},0,0.0,0,90.0,,,",
        "2025-03-01 09:00:00,Push,1h,Bench Press (Barbell),2,60.0,9.0,0,0.0,,,8",
        "2025-03-01 09:00:00,Push,1h,Plank,1,0,0.0,0,60.0,,,",
        "2025-03-01 09:00:00,Push,1h,Plank,2,0,0.0,0,0.0,,,",  # nothing logged
        "2025-03-04 18:30:00,Pull,50min,Deadlift (Barbell),1,100.0,5.0,0,0.0,,,",
    ]
    return "\n".join([CLASSIC[language], *rows]) + "\n"


@pytest.mark.parametrize("language", sorted(CLASSIC))
def test_classic_layout_loads_in_any_language(workspace: Workspace, language: str) -> None:
    text = classic(language)
    assert detect(text.encode()) is strong_csv
    outcome = workspace.ingest(f"u1/{language}.csv", text)
    assert (outcome.format, outcome.status) == ("strong_csv", "loaded")
    # 6 rows: a rest timer and a row with nothing logged are not sets
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (4, 0, 2)
    stored = workspace.query(
        "SELECT exercise_raw, reps, load_kg, duration_s, rpe FROM sets ORDER BY performed_at, "
        "exercise_raw, set_index"
    )
    assert stored == [
        ("Bench Press (Barbell)", 10, 60.0, None, None),
        ("Bench Press (Barbell)", 9, 60.0, None, 8.0),
        ("Plank", None, 0.0, 60.0, None),
        ("Deadlift (Barbell)", 5, 100.0, None, None),
    ]


def test_a_language_change_deduplicates(workspace: Workspace) -> None:
    first = workspace.ingest("u1/en.csv", classic("en"))
    again = workspace.ingest("u1/de.csv", classic("de"))
    assert first.loaded == 4
    assert (again.format, again.loaded, again.unchanged) == ("strong_csv", 0, 4)


def test_2016_layout_units_from_column_names(workspace: Workspace) -> None:
    text = (
        "Date,Workout Name,Exercise Name,Set Order,lbs,Reps,mi,Seconds,Notes\n"
        '2016-10-03 19:30:55,"W1D1","Squat",0,135.0,5,0.0,0,""\n'
        '2016-10-03 19:30:55,"W1D1","Squat",1,135.0,5,0.0,0,""\n'
        '2016-10-03 19:30:55,"W1D1","Running",0,0.0,0,1.5,600,""\n'
    )
    outcome = workspace.ingest("u1/2016.csv", text)
    assert (outcome.loaded, outcome.rejected) == (3, 0)
    stored = workspace.query(
        "SELECT exercise_raw, set_index, load_unit, round(load_kg, 4), reps, distance_m "
        "FROM sets ORDER BY exercise_raw DESC, set_index"
    )
    assert stored == [
        ("Squat", 1, "lb", round(135 * 0.45359237, 4), 5, None),
        ("Squat", 2, "lb", round(135 * 0.45359237, 4), 5, None),
        ("Running", 1, "lb", 0.0, None, pytest.approx(1.5 * 1609.344)),
    ]


def test_set_type_markers_in_every_spelling(workspace: Workspace) -> None:
    header = (
        '"Workout #";"Date";"Workout Name";"Duration (sec)";"Exercise Name";"Set Order";'
        '"Weight (kg)";"Reps";"RPE";"Distance (meters)";"Seconds";"Notes";"Workout Notes"'
    )
    orders = ["WARM_UP", "W", "1", "2", "FAILURE", "D", "DROP_SET", "SUPERSET"]
    workout = '"7";"2024-05-02 18:00:00";"Legs";"3600";"Squat (Barbell)"'
    rows = [f'{workout};"{order}";"80.0";"5";"";"";"";"";""' for order in orders]
    outcome = workspace.ingest("u1/6x.csv", "\n".join([header, *rows]) + "\n")
    assert (outcome.loaded, outcome.rejected) == (7, 1)
    types = workspace.query("SELECT set_type FROM sets ORDER BY set_index")
    assert [t for (t,) in types] == [
        "warmup", "warmup", "working", "working", "failure", "drop", "drop",
    ]  # fmt: skip
    ((line, errors),) = workspace.query("SELECT source_line, errors FROM rejects")
    (error,) = json.loads(errors)
    assert (line, error["field"], error["value"]) == (9, "set_type", "SUPERSET")


def test_a_csv_of_another_shape_is_not_strong() -> None:
    # the classic width, but no time in the date; or a weight where Set Order stands
    fitnotes_like = (
        "Date,Exercise,Category,Weight,Weight Unit,Reps,Distance,Distance Unit,Time,Comment\n"
        "2025-04-29,Bench Press,Chest,60.0,kgs,5,,,,\n"
    )
    shifted = classic("ja").replace("(Barbell),1,60.0,", "(Barbell),60.0,1,")
    assert not strong_csv.detect(fitnotes_like.encode())
    assert not strong_csv.detect(shifted.encode())


def dict_rows(relative: str) -> list[dict[str, str]]:
    with (REAL_DATA / relative).open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def figures(rows: list[dict[str, str]], weight: str, reps: str, seconds: str) -> dict[str, float]:
    """Sets, reps and volume by an independent reading: a set has reps or seconds > 0."""
    done = [r for r in rows if float(r[reps] or 0) > 0 or float(r[seconds] or 0) > 0]
    return {
        "sets": len(done),
        "reps": sum(int(float(r[reps] or 0)) for r in done),
        "volume": round(sum(float(r[reps] or 0) * float(r[weight] or 0) for r in done), 1),
        "timed": sum(1 for r in done if float(r[reps] or 0) == 0),
    }


STORED_FIGURES = (
    "SELECT count(*), coalesce(sum(reps), 0), round(sum(coalesce(reps, 0) * load_kg), 1), "
    "count(*) FILTER (reps IS NULL) FROM sets"
)


@needs_real_data
def test_real_french_export(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_french.csv")
    expected = figures(rows, "Poids", "Réps", "Secondes")
    outcome = workspace.ingest_real("strong/strong_french.csv")
    assert (outcome.format, outcome.status, outcome.rejected) == ("strong_csv", "loaded", 0)
    assert outcome.loaded + outcome.skipped == len(rows)
    assert workspace.query(STORED_FIGURES)[0] == (
        expected["sets"], expected["reps"], expected["volume"], expected["timed"],
    )  # fmt: skip
    assert workspace.query("SELECT DISTINCT set_type FROM sets") == [("working",)]
    workouts = {r["Date"] for r in rows}
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(workouts)


@needs_real_data
def test_real_2016_export(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_2016_kg_km.csv")
    expected = figures(rows, "kg", "Reps", "Seconds")
    outcome = workspace.ingest_real("strong/strong_2016_kg_km.csv")
    assert (outcome.format, outcome.status, outcome.rejected) == ("strong_csv", "loaded", 0)
    assert workspace.query(STORED_FIGURES)[0] == (
        expected["sets"], expected["reps"], expected["volume"], expected["timed"],
    )  # fmt: skip
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("kg",)]
    # Set Order starts at 0 in this layout; sets are numbered from 1 in the warehouse
    assert min(int(r["Set Order"]) for r in rows) == 0
    assert workspace.scalar("SELECT min(set_index) FROM sets") == 1
    first, last = min(r["Date"] for r in rows), max(r["Date"] for r in rows)
    stored = workspace.query("SELECT min(performed_at), max(performed_at) FROM sets")[0]
    assert [f"{s:%Y-%m-%d %H:%M:%S}" for s in stored] == [first, last]


def test_sets_are_numbered_without_the_rows_that_are_not_sets(workspace: Workspace) -> None:
    # A set's number is in its key: a row of nothing logged before it must not shift it, or a
    # re-export by another reader version would store the set twice.
    text = "\n".join(
        [
            CLASSIC["en"],
            "2025-03-01 09:00:00,Push,1h,Squat,1,60.0,0.0,0,0.0,,,",
            "2025-03-01 09:00:00,Push,1h,Squat,Rest Timer,0,0.0,0,90.0,,,",
            "2025-03-01 09:00:00,Push,1h,Squat,2,60.0,5.0,0,0.0,,,",
        ]
    )
    outcome = workspace.ingest("u1/numbered.csv", text + "\n")
    assert (outcome.loaded, outcome.skipped) == (1, 2)
    assert workspace.query("SELECT set_index, reps FROM sets") == [(1, 5)]


def test_advice_comes_back_in_the_pounds_the_lifter_loads(workspace: Workspace) -> None:
    # Strong's legacy export writes 15 lb dumbbells as 6.80388555 kg and names no unit
    header = (
        "Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
        "Workout Notes,RPE"
    )
    rows = [
        f"2019-02-{day} 07:33:40,Wed,Bench Press (Dumbbell),{n},6.80388555,12,0,0,,,"
        for day in (11, 14)
        for n in (1, 2, 3)
    ]
    workspace.write("u1/legacy.csv", "\n".join([header, *rows]) + "\n")
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    result = pipeline.execute(config, files, "run", date(2019, 2, 15))
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
    ((action, unit, load_kg, reason),) = workspace.query(
        "SELECT action, load_unit, next_load_kg, reason FROM v_current_flags "
        "WHERE kind = 'progression'"
    )
    assert result.rules_ran and (action, unit) == ("raise_load", "lb")
    assert load_kg == pytest.approx(20 * 0.45359237)
    assert "20 lb" in reason and "kg" not in reason


def test_2016_layout_without_notes(workspace: Workspace) -> None:
    # README: the 2016 layout also exists without its Notes column, named `lb` and `mi`.
    text = (
        "Date,Workout Name,Exercise Name,Set Order,lb,Reps,mi,Seconds\n"
        "2016-10-03 19:30:55,W1D1,Squat,0,135.0,5,0.0,0\n"
        "2016-10-03 19:30:55,W1D1,Squat,1,135.0,5,0.0,0\n"
        "2016-10-03 19:30:55,W1D1,Running,0,0.0,0,1.5,600\n"
    )
    assert detect(text.encode()) is strong_csv
    outcome = workspace.ingest("u1/2016.csv", text)
    assert (outcome.loaded, outcome.rejected, outcome.unit, outcome.unit_source) == (
        3, 0, "lb", "file",
    )  # fmt: skip
    stored = workspace.query(
        "SELECT load_unit, round(load_kg, 4), distance_m FROM sets ORDER BY source_line"
    )
    assert stored[:2] == [("lb", round(135 * 0.45359237, 4), None)] * 2


@pytest.mark.parametrize("missing", [1, 2, 3])
def test_a_known_layout_with_its_last_columns_missing_in_any_language(
    workspace: Workspace, missing: int
) -> None:
    # The classic layout in a language none of our hints know, its last columns left out.
    header = CLASSIC["ja"].split(",")[:-missing]
    rows = [",".join(line.split(",")[: len(header)]) for line in classic("ja").splitlines()[1:]]
    text = "\n".join([",".join(header), *rows]) + "\n"
    assert detect(text.encode()) is strong_csv
    outcome = workspace.ingest(f"u1/ja-{missing}.csv", text)
    assert (outcome.format, outcome.loaded, outcome.rejected, outcome.skipped) == (
        "strong_csv", 4, 0, 2,
    )  # fmt: skip


def test_a_pound_lifters_file_that_names_no_unit(workspace: Workspace) -> None:
    loads = [135, 185, 225, 225, 225, 315, 95, 135, 405, 275]
    rows = [
        f"2025-03-0{1 + n // 5} 09:00:00,Legs,1h,Squat (Barbell),{n % 5 + 1},{w}.0,5.0,0,0.0,,,"
        for n, w in enumerate(loads)
    ]
    outcome = workspace.ingest("u1/pounds.csv", "\n".join([CLASSIC["en"], *rows]) + "\n")
    assert (outcome.unit, outcome.unit_source) == ("lb", "loads")
    share = sum(w in (135, 225, 315, 405) for w in loads) / len(loads)
    assert f"{share:.0%} of loaded sets at 135/225/315/405" in (outcome.unit_evidence or "")
    stored = workspace.query("SELECT DISTINCT load_unit, max(load_kg) FROM sets GROUP BY 1")
    assert stored == [("lb", pytest.approx(405 * 0.45359237))]
    # The next export of this athlete's without evidence of its own is read in pounds too.
    later = f"{CLASSIC['en']}\n2025-03-09 09:00:00,Arms,1h,Curl,1,40.0,10.0,0,0.0,,,\n"
    again = workspace.ingest("u1/later.csv", later)
    assert (again.unit, again.unit_source) == ("lb", "earlier_files")
    assert "as this athlete's earlier files" in (again.unit_evidence or "")
    # Another athlete's file is read in their own unit setting.
    other = workspace.ingest("u2/later.csv", later, athletes={"u2": {"unit": "kg"}})
    assert (other.unit, other.unit_source) == ("kg", "setting")
    # The operator's fix wins over the earlier files.
    fixed = workspace.ingest(
        "u1/fixed.csv", later.replace("40.0", "20.0"), athletes={"u1": {"file_unit": "kg"}}
    )
    assert (fixed.unit, fixed.unit_source) == ("kg", "file_unit")


@needs_real_data
def test_real_spanish_export_is_pounds(workspace: Workspace) -> None:
    rows = dict_rows("strong/strong_spanish.csv")
    # A rest timer (`Temporizador de descanso`) is no set; a row with nothing measured neither.
    done = [
        r for r in rows
        if r["Orden de la serie"].isdigit()
        and (float(r["Rep."] or 0) > 0 or float(r["Segundos"] or 0) > 0
             or float(r["Distancia"] or 0) > 0)
    ]  # fmt: skip
    outcome = workspace.ingest_real("strong/strong_spanish.csv")
    assert (outcome.status, outcome.unit, outcome.unit_source) == ("loaded", "lb", "loads")
    assert (outcome.loaded, outcome.rejected) == (len(done), 0)
    assert outcome.loaded + outcome.skipped == len(rows)
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
    pounds = sum(float(r["Rep."] or 0) * float(r["Peso"] or 0) for r in done)
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(
        pounds * 0.45359237
    )
    assert workspace.scalar("SELECT max(load_kg) FROM sets") == pytest.approx(
        max(float(r["Peso"]) for r in done) * 0.45359237
    )


def test_a_zipped_export_says_what_was_decided_for_it(workspace: Workspace) -> None:
    loads = [135, 225, 315, 405, 185, 135]
    rows = [
        f"2025-03-01 09:00:00,Legs,1h,Squat,{n + 1},{w}.0,5.0,0,0.0,,," for n, w in enumerate(loads)
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("strong.csv", "\n".join([CLASSIC["en"], *rows]) + "\n")
    (workspace.inbox / "u1").mkdir()
    (workspace.inbox / "u1" / "export.zip").write_bytes(buffer.getvalue())
    outcome = workspace.ingest("u1/export.zip")
    assert (outcome.format, outcome.unit, outcome.unit_source) == ("strong_csv", "lb", "loads")
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
