"""Alpha Progression exports, both generations: the 2023 blocks (`#,LBS,REPS`) and the newer
`;` layout with decimal commas (`#;KG;REPS;RIR`), loaded through the pipeline.

The real 2023 file's figures come from reading it independently with Python's csv module.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sources import ReadHints, alpha_progression_csv, detect
from sources.csv_text import UnreadableFile
from tests.conftest import REAL_DATA, Workspace, needs_real_data
from warehouse.load import FileOutcome

REAL = "alpha_progression/alpha_progression_2023.csv"
LB = 0.45359237
NBSP = "\u00a0"


def ingest(workspace: Workspace, name: str, data: bytes | None = None) -> FileOutcome:
    """One file into the inbox of athlete u1 (`data`, or the real file `name`), ingested."""
    if data is None:
        return workspace.ingest_real(name)
    target = workspace.inbox / "u1" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return workspace.ingest(f"u1/{name}")


def stored(workspace: Workspace) -> list[dict[str, Any]]:
    columns = (
        "exercise_raw",
        "set_index",
        "set_type",
        "reps",
        "load_kg",
        "load_unit",
        "rpe",
        "source_line",
        "started",
    )
    rows = workspace.query(
        "SELECT exercise_raw, set_index, set_type, reps, load_kg, load_unit, rpe, source_line, "
        "timezone('UTC', performed_at) AS started FROM sets "
        "ORDER BY started, source_line, set_index"
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]


def rejects(workspace: Workspace) -> dict[tuple[int, str], str]:
    """(source_line, raw) of each reject, with its messages joined."""
    rows = workspace.query("SELECT source_line, raw, errors FROM rejects")
    return {
        (line, raw): " | ".join(e["message"] for e in json.loads(errors))
        for line, raw, errors in rows
    }


# --- the real 2023 export -------------------------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2} [ap]m$", re.IGNORECASE)
PLAIN_WARMUP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+)\s*$")


def independent_reading(path: Path) -> dict[str, Any]:
    """The 2023 file read with the csv module: each workout's start, and each set (set rows
    under a `#,…` header, and the `weight x reps` lines of an exercise line's note)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        records = [[cell.replace(NBSP, " ").strip() for cell in row] for row in csv.reader(handle)]
    starts: list[datetime] = []
    found: list[tuple[str, str, float, int]] = []  # set type, unit, load, reps
    unlogged = 0
    header: list[str] = []
    pending: list[tuple[float, int]] = []  # warm-ups wait for the header that gives their unit
    for cells in records:
        if not any(cells):
            continue
        if DATE.match(cells[0]):
            starts.append(datetime.strptime(cells[0], "%Y-%m-%d %I:%M %p"))
            header = []
        elif re.match(r"^\d+\. ", cells[0]):
            header = []
            notes = cells[1].splitlines() if len(cells) > 1 else []
            matches = [PLAIN_WARMUP.match(note) for note in notes]
            if notes and all(matches):
                pending = [(float(m.group(1)), int(m.group(2))) for m in matches if m]
        elif cells[0] == "#":
            header = [cell.upper() for cell in cells]
            unit = next((c for c in header if c in ("KG", "LBS")), "")
            found.extend(("warmup", unit, load, reps) for load, reps in pending)
            pending = []
        elif header and cells[0].isdigit():
            values = dict(zip(header, cells, strict=True))
            if values["REPS"] == "-":
                unlogged += 1
                continue
            unit = next((c for c in header if c in ("KG", "LBS")), "")
            found.append(("working", unit, float(values.get(unit, "0")), int(values["REPS"])))
    return {"starts": starts, "sets": found, "unlogged": unlogged}


@needs_real_data
def test_real_2023_export_matches_an_independent_reading(workspace: Workspace) -> None:
    expected = independent_reading(REAL_DATA / REAL)
    sets = expected["sets"]
    result = ingest(workspace, REAL)
    assert (result.format, result.status) == ("alpha_progression_csv", "loaded")
    assert (result.loaded, result.rejected, result.skipped) == (
        len(sets),
        0,
        expected["unlogged"],
    )
    types: dict[str, int] = {}
    for kind, *_ in sets:
        types[kind] = types.get(kind, 0) + 1
    assert dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY ALL")) == types
    assert workspace.scalar("SELECT sum(reps) FROM sets") == sum(s[3] for s in sets)
    volume = sum(reps * load * (LB if unit == "LBS" else 1.0) for _, unit, load, reps in sets)
    assert workspace.scalar("SELECT sum(reps * load_kg) FROM sets") == pytest.approx(volume)
    units = {"LBS": "lb", "KG": "kg"}
    assert {u for (u,) in workspace.query("SELECT DISTINCT load_unit FROM sets")} == {
        units[unit] for _, unit, _, _ in sets
    }
    starts = expected["starts"]
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == len(starts)
    assert workspace.query(
        "SELECT min(timezone('UTC', performed_at)), max(timezone('UTC', performed_at)) FROM sets"
    )[0] == (min(starts), max(starts))
    # Hand-checked: 35 workouts, from 3 January to 24 March 2023, all in pounds.
    assert (len(starts), min(starts), max(starts)) == (
        35,
        datetime(2023, 1, 3, 8, 11),
        datetime(2023, 3, 24, 19, 26),
    )


@needs_real_data
def test_detection_claims_the_real_export_and_no_other(workspace: Workspace) -> None:
    ours = REAL_DATA / REAL
    assert detect(ours.read_bytes()[: 64 * 1024]) is alpha_progression_csv
    others = [p for p in REAL_DATA.rglob("*") if p.is_file() and p != ours and p.suffix != ".md"]
    assert others
    for path in others:
        assert not alpha_progression_csv.detect(path.read_bytes()[: 64 * 1024]), path.name


# --- the 2023 layout, synthetic -------------------------------------------------------------

LAYOUT_2023 = [
    "\ufeff",  # 1: the BOM, alone on its line
    "",
    "Push",
    f'"2024-05-06 6:05{NBSP}pm",1:02{NBSP}hr',
    '"Day 1 · Week 1 · Plan_001"',
    '"1. Bench Press Barbell","20 x 10',  # 6: warm-ups, one a line of the note
    '40 × 8"',
    '"8 reps"',
    "#,KG,REPS",
    "1,60,8",  # 10
    "2,62.5,6",
    '"2. Curls Dumbbells","Superset 1"',
    '"10 reps"',
    "#,LBS,REPS",
    "1,25,10",  # 15
    "2,-,-",  # a planned set not done
    '"3. Crunches Bodyweight"',
    '"15 reps"',
    "#,REPS",
    "1,15",  # 20
    '"4. Flys Cable","Used machine',  # a note that is not warm-ups
    'anchor: 3"',
    '"10 reps"',
    "#,LBS,REPS",
    "1,20,12",  # 25
    "",
    "",
    '"Legs"',
    f'"2024-05-04 7:30{NBSP}am",45{NBSP}min',
    '"Day 2 · Week 1 · Plan_001"',  # 30
    '"1. Squats Barbell","warm up 5 x 7"',
    '"5 reps"',
    "#,KG,REPS",
    "1,100,5",
]


@pytest.mark.parametrize(
    "ending", ["\n", "\r\n", ""], ids=["trailing-newline", "crlf", "no-trailing-newline"]
)
def test_2023_layout_with_kg_and_lbs_blocks_and_warmups(workspace: Workspace, ending: str) -> None:
    newline = "\r\n" if ending == "\r\n" else "\n"
    data = (newline.join(LAYOUT_2023) + ending).encode()
    assert detect(data) is alpha_progression_csv
    result = ingest(workspace, "Workouts.csv", data)
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "alpha_progression_csv",
        8,
        0,
        1,  # `2,-,-`
    )
    rows = stored(workspace)
    legs, push = datetime(2024, 5, 4, 7, 30), datetime(2024, 5, 6, 18, 5)
    assert [(r["started"], r["exercise_raw"], r["set_index"], r["set_type"]) for r in rows] == [
        (legs, "Squats Barbell", 1, "working"),  # `warm up 5 x 7` is a note, not a warm-up
        (push, "Bench Press Barbell", 1, "warmup"),
        (push, "Bench Press Barbell", 2, "warmup"),
        (push, "Bench Press Barbell", 3, "working"),
        (push, "Bench Press Barbell", 4, "working"),
        (push, "Curls Dumbbells", 1, "working"),
        (push, "Crunches Bodyweight", 1, "working"),
        (push, "Flys Cable", 1, "working"),
    ]
    bench = [r for r in rows if r["exercise_raw"] == "Bench Press Barbell"]
    # Warm-ups stand on their exercise line, and take the kg of the header below them.
    assert [(r["source_line"], r["reps"], r["load_kg"], r["load_unit"]) for r in bench] == [
        (6, 10, 20.0, "kg"),
        (6, 8, 40.0, "kg"),
        (10, 8, 60.0, "kg"),
        (11, 6, 62.5, "kg"),
    ]
    curls = next(r for r in rows if r["exercise_raw"] == "Curls Dumbbells")
    assert (curls["load_kg"], curls["load_unit"], curls["source_line"]) == (25 * LB, "lb", 15)
    crunches = next(r for r in rows if r["exercise_raw"] == "Crunches Bodyweight")
    assert (crunches["reps"], crunches["load_kg"]) == (15, 0.0)  # `#,REPS`: no load column
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == 2


# --- the newer layout, synthetic ------------------------------------------------------------

LAYOUT_NEW = "\n".join(
    [
        '"Legs · Day 2 · Week 4 · Push-Pull-Legs";"2026-02-19 4:54 h";"1:02 hr"',
        '"1. Hack Squats · Machine · 8 reps";"WU1 · 37,5 kg · 9 reps<br>WU2 · 72,5 kg · 7 reps"',
        "#;KG;REPS;RIR",
        "1;115;8;1",
        "2;102,5;6;0,5",  # 5
        '"2. Pull-Ups · Bodyweight · 10 reps · 2 dropsets"',
        "#;KG;REPS;RIR",
        "1;+35;10;0",
        "2;+0;8;0",
        "",  # 10
        '"Push · Day 1 · Week 4 · Push-Pull-Legs";"2026-02-17 18:05 h";"58 min"',
        '"1. Curls · Dumbbells · 12 reps";"WU1 · 10 lbs · 15 reps"',
        "#;LBS;REPS;RIR",
        "1;25;12;2",
    ]
)


def test_newer_layout_with_decimal_commas_bodyweight_plus_and_rir(workspace: Workspace) -> None:
    data = (LAYOUT_NEW + "\n").encode()
    assert detect(data) is alpha_progression_csv
    result = ingest(workspace, "workouts.csv", data)
    assert (result.format, result.loaded, result.rejected, result.skipped) == (
        "alpha_progression_csv",
        8,
        0,
        0,
    )
    rows = stored(workspace)
    push, legs = datetime(2026, 2, 17, 18, 5), datetime(2026, 2, 19, 4, 54)
    got = [
        (r["started"], r["exercise_raw"], r["set_index"], r["set_type"], r["reps"], r["load_kg"])
        for r in rows
    ]
    assert got == [
        (push, "Curls (Dumbbells)", 1, "warmup", 15, 10 * LB),
        (push, "Curls (Dumbbells)", 2, "working", 12, 25 * LB),
        (legs, "Hack Squats (Machine)", 1, "warmup", 9, 37.5),
        (legs, "Hack Squats (Machine)", 2, "warmup", 7, 72.5),
        (legs, "Hack Squats (Machine)", 3, "working", 8, 115.0),
        (legs, "Hack Squats (Machine)", 4, "working", 6, 102.5),
        (legs, "Pull-Ups (Bodyweight)", 1, "working", 10, 35.0),  # `+35`: bodyweight plus 35
        (legs, "Pull-Ups (Bodyweight)", 2, "working", 8, 0.0),  # `+0`: bodyweight
    ]
    # RIR converts to RPE = 10 - RIR; `0,5` is 0.5; warm-ups have none.
    assert [r["rpe"] for r in rows] == [None, 8.0, None, None, 9.0, 9.5, 10.0, 10.0]
    assert {r["exercise_raw"]: r["load_unit"] for r in rows} == {
        "Curls (Dumbbells)": "lb",
        "Hack Squats (Machine)": "kg",
        "Pull-Ups (Bodyweight)": "kg",
    }
    assert [r["source_line"] for r in rows] == [12, 14, 2, 2, 4, 5, 8, 9]


# --- broken lines ---------------------------------------------------------------------------


def test_broken_lines_are_rejected_with_their_reason(workspace: Workspace) -> None:
    lines = [
        "exported by hand",  # 1: before any workout
        '"Push · Day 1";"2026-02-17 18:05 h";"58 min"',
        '"1. Bench Press · Barbell · 8 reps";"WU1 · 60 kg · 8 reps<br>WU2 · heavy"',
        "#;KG;REPS;RIR",
        "1;100;8;2",  # 5
        '2;"100;8;2',  # a quote left open
        "3;100;7;1",  # still a bench press set
        "4;100;7",  # a field short
        "this is not a line of the export",
        "5;100;6;1",  # 10: its exercise line may be the one above, damaged
        '"2. Rows · Cable · 10 reps"',
        "1;60;10;1",  # no set header above it
        '"3. Planks · 60 sec"',
        "#;SEC;RIR",
        "1;60;0",  # 15: a column this reader does not know
    ]
    result = ingest(workspace, "broken.csv", "\n".join(lines).encode())
    assert (result.status, result.loaded, result.rejected) == ("loaded", 3, 8)
    assert [(r["set_index"], r["reps"], r["source_line"]) for r in stored(workspace)] == [
        (1, 8, 3),  # WU1
        (3, 8, 5),
        (5, 7, 7),
    ]
    reasons = rejects(workspace)
    assert sorted(reasons) == [
        (1, "exported by hand"),
        (3, "WU2 · heavy"),
        (6, '2;"100;8;2'),
        (8, "4;100;7"),
        (9, "this is not a line of the export"),
        (10, "5;100;6;1"),
        (12, "1;60;10;1"),
        (15, "1;60;0"),
    ]
    assert "before the first workout" in reasons[(1, "exported by hand")]
    assert "does not read as `WU1 · 37,5 kg · 9 reps`" in reasons[(3, "WU2 · heavy")]
    assert "quoting is broken" in reasons[(6, '2;"100;8;2')]
    assert (
        "expected 4 fields as in the set header `#;KG;REPS;RIR`, found 3" in reasons[(8, "4;100;7")]
    )
    assert (
        "none of an Alpha Progression export's kinds"
        in reasons[(9, "this is not a line of the export")]
    )
    assert "line 9 above it could not be read" in reasons[(10, "5;100;6;1")]
    assert "no set header" in reasons[(12, "1;60;10;1")]
    assert "does not know: SEC" in reasons[(15, "1;60;0")]


# --- detection ------------------------------------------------------------------------------


def test_detection_needs_a_set_header_and_a_workout_date() -> None:
    assert detect(LAYOUT_NEW.encode()) is alpha_progression_csv
    # A 64 KB head may end inside a character (here the first byte of a `·`).
    head_2023 = "\n".join(LAYOUT_2023).encode()
    assert alpha_progression_csv.detect(head_2023 + b'"Day 1 \xc2')
    # The app's plan export has neither; a `#,KG,REPS` line alone is not enough.
    plans = (
        '\ufeff\n"Second Plan",2023-02-02\n"4 weeks"\nEXERCISE,SETS,REPS\n"1. Flys Cable",3,10\n'
    )
    assert not alpha_progression_csv.detect(plans.encode())
    assert not alpha_progression_csv.detect(b"#,KG,REPS\n1,60,8\n")
    assert not alpha_progression_csv.detect(b'"2024-05-06 6:05 pm",1:02 hr\n1,60,8\n')


def test_a_file_without_a_set_table_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text('"Second Plan",2023-02-02\n"4 weeks"\n', encoding="utf-8")
    with pytest.raises(UnreadableFile, match="#,KG,REPS"):
        alpha_progression_csv.read(path, ReadHints())
