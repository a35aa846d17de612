"""JEFIT's sectioned export: packed `logs` cells, per-set rows, never the same set twice.

The real file's figures come from reading its sections with Python's csv module here; the
synthetic exports below cover each quirk, so these tests pass without ../shared.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

import sources
from schemas.set_row import LB_TO_KG
from sources import jefit_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

REAL = "jefit/jefit_export.csv"
LOG_HEADER = (
    "USERID,TIMESTAMP,belongSys,logs,_id,record,mydate,eid,ename,day_item_id,belongsession,"
    "logTime,interval_logs,auto_generated"
)
SET_HEADER = (
    "_id,userid,exercise_log_id,set_index,weight_lbs,reps,calories,distance_mi,speed_mph,laps,"
    "duration,set_type,log_time,TIMESTAMP"
)
SETTING_HEADER = "row_id,USERID,TIMESTAMP,gender,currentRoutine,DOB,name,length,mass,dbversion"
DAY = 1735603200  # 2024-12-31T00:00:00Z
END = "#" * 54


# --- an independent reading of a JEFIT export, with Python's csv module ---------------------


def read_sections(path: Path) -> dict[str, tuple[list[str], list[tuple[int, list[str]]]]]:
    """Each section's header and its rows with their physical line numbers."""
    sections: dict[str, tuple[list[str], list[tuple[int, list[str]]]]] = {}
    current: str | None = None
    with path.open(newline="", encoding="utf-8") as handle:
        for number, line in enumerate(handle.read().split("\n"), start=1):
            if line.startswith("### "):
                current = line.strip("# ").strip()
            elif line.startswith("#####"):
                current = None
            elif current is not None and line.strip():
                row = next(csv.reader([line]))
                if current not in sections:
                    sections[current] = (row, [])
                else:
                    sections[current][1].append((number, row))
    return sections


def packed_cell(header: list[str], row: list[str]) -> str:
    """`logs` with the fields an unquoted cell spilled into joined back."""
    at, extra = header.index("logs"), len(row) - len(header)
    return ",".join(row[at : at + extra + 1])


def is_cardio(entries: list[tuple[str, str]]) -> bool:
    """Five `0xN` entries per set, the first three zero: a cardio or timed log."""
    return (
        len(entries) % 5 == 0
        and all(float(w) == 0 for w, _ in entries)
        and all(float(r) == 0 for i, (_, r) in enumerate(entries) if i % 5 < 3)
    )


# --- loading through the pipeline -----------------------------------------------------------


def reject_messages(workspace: Workspace) -> list[str]:
    rows = workspace.query("SELECT errors FROM rejects ORDER BY source_line")
    return [" ".join(e["message"] for e in json.loads(errors)) for (errors,) in rows]


# --- synthetic exports ----------------------------------------------------------------------


def section(name: str, header: str, rows: list[str]) -> str:
    return "\n".join([f"### {name} {'#' * (50 - len(name))}", "", header, *rows, "", "", END, ""])


def log(cell: str, log_id: int, name: str, session: int = 1, epoch: int = DAY) -> str:
    day = datetime.fromtimestamp(epoch, UTC).date().isoformat()
    return f'1,"2026-01-01 00:00:00",1,{cell},{log_id},0,{day},2,"{name}",0,{session},{epoch},,'


def set_log(row_id: int, log_id: int, index: int, weight: str, reps: str, **extra: str) -> str:
    kind, epoch = extra.get("kind", "default"), extra.get("epoch", str(DAY + 60 * (index + 1)))
    duration = extra.get("duration", "")
    return (
        f"{row_id},1,{log_id},{index},{weight},{reps},,,,,{duration},{kind},{epoch},"
        '"2026-01-01 00:00:00"'
    )


def export(logs: list[str], set_logs: list[str] | None = None, mass: str = " lbs") -> str:
    """A whole JEFIT export: sections that hold no sets around the two that do."""
    parts = [
        "",
        section(
            "SETTING",
            SETTING_HEADER,
            [f'9819,1,"2026-06-02 07:59:33",M,4,1980-01-01,," inches","{mass}",'],
        ),
        section(
            "PROFILE",
            "row_id,USERID,TIMESTAMP,_id,mydate,weight",
            ['1,1,"2019-10-07",1,2013-06-07,253'],
        ),
        section(
            "WORKOUT SESSIONS",
            "rowid,_id,USERID,starttime,endtime",
            [f"1,1,1,{DAY},{DAY + 3600}", f"2,2,1,{DAY + 7200},{DAY + 9000}"],
        ),
        section("EXERCISE LOGS", LOG_HEADER, logs),
    ]
    if set_logs is not None:
        parts.append(section("EXERCISE SET LOGS", SET_HEADER, set_logs))
    parts += [
        section(
            "CARDIO LOGS",
            "row_id,TIMESTAMP,USERID,_id,weeklyLogId,eid,belongSys,lap,duration,speed,distance",
            ['1,"2019-10-07 21:02:30",1,1,0,318,1,0,1200,0,0'],
        ),
        section(
            "NOTES",
            "row_id,TIMESTAMP,USERID,_id,eid,belongSys,mynote,title,mydate,logTime",
            ['1,"2019-10-07 21:02:30",1,1,132,1,"6x45, ""wide""","Leg Press",2017-08-04,1'],
        ),
    ]
    return "\n".join(parts)


def stored(workspace: Workspace, exercise: str) -> list[tuple[int, int | None, float]]:
    """(set_index, reps, load in the logged unit) of an exercise's sets, in order."""
    return workspace.query(
        "SELECT set_index, reps, round(CASE load_unit WHEN 'lb' THEN load_kg / ? ELSE load_kg END,"
        " 4) FROM sets WHERE exercise_raw = ? ORDER BY performed_at, set_index",
        [LB_TO_KG, exercise],
    )


def test_packed_logs_quoted_and_unquoted(workspace: Workspace) -> None:
    content = export(
        [
            log('"50.0x15,50.0x12"', 1, "Dumbbell Bench Press"),
            # Unquoted: the row has two fields more than the header.
            log("60x10,65x8,70x6", 2, "Barbell Squat"),
            log("135x5", 3, "Barbell Deadlift"),
        ]
    )
    result = workspace.ingest("u1/jefit.csv", content)
    assert (result.format, result.loaded, result.rejected, result.skipped) == ("jefit_csv", 6, 0, 0)
    assert stored(workspace, "Dumbbell Bench Press") == [(1, 15, 50.0), (2, 12, 50.0)]
    assert stored(workspace, "Barbell Squat") == [(1, 10, 60.0), (2, 8, 65.0), (3, 6, 70.0)]
    assert stored(workspace, "Barbell Deadlift") == [(1, 5, 135.0)]
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
    assert workspace.query("SELECT DISTINCT performed_at FROM sets") == [
        (datetime.fromtimestamp(DAY, UTC),)
    ]
    # The sections that hold no sets (profile, sessions, cardio, notes) count nowhere.
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0


def test_a_log_with_set_rows_is_read_from_them_alone(workspace: Workspace) -> None:
    content = export(
        [
            log('"100x5,100x5,100x5"', 7, "Barbell Bench Press", epoch=DAY + 60),
            log('"20x10,20x10"', 8, "Dumbbell Curl", epoch=DAY + 900),
        ],
        [
            set_log(1, 7, 0, "45.0000", "10", kind="warm-up"),
            set_log(2, 7, 1, "100.0000", "5"),
            set_log(3, 7, 2, "105.0000", "5"),
            set_log(4, 7, 3, "110.0000", "3"),
        ],
    )
    result = workspace.ingest("u1/jefit.csv", content)
    # 4 set rows for log 7 (its packed cell not read again: not 7 sets) + 2 packed for log 8.
    assert (result.loaded, result.rejected, result.skipped) == (6, 0, 0)
    assert stored(workspace, "Barbell Bench Press") == [
        (1, 10, 45.0),
        (2, 5, 100.0),
        (3, 5, 105.0),
        (4, 3, 110.0),
    ]
    assert stored(workspace, "Dumbbell Curl") == [(1, 10, 20.0), (2, 10, 20.0)]
    types = workspace.query("SELECT set_type, count(*) FROM sets GROUP BY ALL ORDER BY ALL")
    assert types == [("warmup", 1), ("working", 5)]
    # Each set row keeps its own time.
    times = workspace.query(
        "SELECT epoch(performed_at)::BIGINT FROM sets WHERE exercise_raw = 'Barbell Bench Press' "
        "ORDER BY 1"
    )
    assert [t for (t,) in times] == [DAY + 60, DAY + 120, DAY + 180, DAY + 240]


def test_kg_setting(workspace: Workspace) -> None:
    content = export(
        [log('"100x5,102.5x3"', 1, "Barbell Squat"), log('"60x8"', 2, "Barbell Bench Press")],
        # JEFIT writes `weight_lbs` in lb whatever the setting: 220.4623 lb is 100 kg.
        [set_log(1, 2, 0, "220.4623", "8"), set_log(2, 2, 1, "226.0000", "6")],
        mass=" kg",
    )
    result = workspace.ingest("u1/jefit.csv", content)
    assert (result.loaded, result.rejected) == (4, 0)
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("kg",)]
    assert stored(workspace, "Barbell Squat") == [(1, 5, 100.0), (2, 3, 102.5)]
    assert stored(workspace, "Barbell Bench Press") == [(1, 8, 100.0), (2, 6, 102.51)]


def test_bodyweight_zero_reps_and_cardio(workspace: Workspace) -> None:
    content = export(
        [
            log('"0x12,0x10,0x0"', 1, "Pull Up"),
            log('"50x0,50x8"', 2, "Dip"),
            # Five entries a set, the fifth the seconds: a 20-minute ride, not 5 sets.
            log('"0x0,0x0,0x0,0x0,0x1200"', 3, "Stationary Bike"),
            # Five bodyweight sets look alike but their reps are not zero: still sets.
            log('"0x3,0x3,0x2,0x3,0x3"', 4, "Chin Up"),
        ]
    )
    result = workspace.ingest("u1/jefit.csv", content)
    assert (result.loaded, result.rejected, result.skipped) == (9, 0, 2)
    assert stored(workspace, "Pull Up") == [(1, 12, 0.0), (2, 10, 0.0)]
    assert stored(workspace, "Dip") == [(1, 8, 50.0)]
    assert workspace.query(
        "SELECT reps, duration_s, load_kg FROM sets WHERE exercise_raw = 'Stationary Bike'"
    ) == [(None, 1200.0, 0.0)]
    assert [r for _, r, _ in stored(workspace, "Chin Up")] == [3, 3, 2, 3, 3]


def test_malformed_rows_are_rejected_with_a_reason(workspace: Workspace) -> None:
    content = export(
        [
            log('"50x10,abc,60x8x2,60x8"', 1, "Barbell Row"),
            # An unquoted comma in the name: the fields after `logs` are not packed sets.
            '1,"2026-01-01",1,"40x10",2,0,2024-12-31,2,Row, Cable,0,1,1735603200,,',
        ],
        [set_log(1, 99, 0, "100", "5")],
    )
    result = workspace.ingest("u1/jefit.csv", content)
    assert (result.loaded, result.rejected) == (2, 4)
    assert stored(workspace, "Barbell Row") == [(1, 10, 50.0), (2, 8, 60.0)]
    messages = reject_messages(workspace)
    assert "the packed set 'abc' in `logs` is not weight x reps" in messages
    assert "the packed set '60x8x2' in `logs` is not weight x reps" in messages
    assert "expected 14 fields as in the header, found 15" in messages
    assert "exercise_log_id 99 is not in EXERCISE LOGS" in messages


def test_two_workouts_on_one_day_keep_every_set(workspace: Workspace) -> None:
    # JEFIT's older logs carry only their day (local midnight): the same time in both workouts.
    content = export(
        [
            log('"95x10,95x10"', 1, "Barbell Incline Bench Press", session=1),
            log('"100x8"', 2, "Barbell Incline Bench Press", session=2),
        ]
    )
    result = workspace.ingest("u1/jefit.csv", content)
    assert (result.loaded, result.rejected) == (3, 0)
    assert workspace.scalar("SELECT count(DISTINCT session_id) FROM sets") == 2
    assert stored(workspace, "Barbell Incline Bench Press") == [
        (1, 10, 95.0),
        (2, 10, 95.0),
        (3, 8, 100.0),
    ]


def test_an_export_without_exercise_logs_fails_with_a_reason(workspace: Workspace) -> None:
    content = "\n" + section("SETTING", SETTING_HEADER, ['1,1,"2026",M,4,1980-01-01,,"in","lbs",'])
    result = workspace.ingest("u1/jefit.csv", content)
    assert result.status == "failed"
    assert "without its EXERCISE LOGS section" in (result.error or "")


def test_detection() -> None:
    head = export([log('"50x10"', 1, "Squat")]).encode()
    assert jefit_csv.detect(head)
    assert sources.detect(head) is jefit_csv
    others = [
        b"Date,Workout Name,Exercise Name,Set Order,Weight,Reps\n",
        b"performed_at,exercise,reps,load,unit\n",
        b"### Notes ###\nsome markdown\n",
        b"\n\n# heading\n",
        b"",
    ]
    assert not any(jefit_csv.detect(other) for other in others)


@needs_real_data
def test_detection_claims_no_other_real_export() -> None:
    for path in sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.suffix != ".md"):
        head = path.read_bytes()[: sources.HEAD_BYTES]
        assert jefit_csv.detect(head) == (path.parent.name == "jefit"), path


# --- the real export --------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    line: int  # the physical line the set comes from
    weight: float  # lb
    reps: int | None
    kind: str
    time: int  # epoch seconds


@dataclass
class Reading:
    sets: list[Expected] = field(default_factory=list)
    skipped: int = 0
    doubled: int = 0  # packed sets of logs that have set rows: counted again by a naive read
    sessions: set[str] = field(default_factory=set)
    logs_with_rows: dict[int, int] = field(default_factory=dict)  # log line -> its set rows
    set_lines: set[int] = field(default_factory=set)


def measured(row: dict[str, str]) -> bool:
    return any(row[c] not in ("", "0") for c in ("reps", "duration", "distance_mi"))


@pytest.fixture(scope="module")
def real_reading() -> Reading:
    """The real export's sets, counted here from its sections with Python's csv module."""
    sections = read_sections(REAL_DATA / REAL)
    setting_header, ((_, setting),) = sections["SETTING"]
    assert setting[setting_header.index("mass")].strip() == "lbs"
    log_header, logs = sections["EXERCISE LOGS"]
    set_header, set_rows = sections["EXERCISE SET LOGS"]
    reading = Reading(set_lines={line for line, _ in set_rows})
    per_log: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)
    for line, row in set_rows:
        fields = dict(zip(set_header, row, strict=True))
        per_log[fields["exercise_log_id"]].append((line, fields))
    kinds = {"default": "working", "warm-up": "warmup"}
    for line, row in logs:
        log_fields = dict(zip(log_header, row, strict=False))
        time = int(log_fields["logTime"])
        entries = [
            (w, r) for w, r in (e.split("x") for e in packed_cell(log_header, row).split(","))
        ]
        found: list[Expected] = []
        if log_fields["_id"] in per_log:
            reading.doubled += len(entries)
            for set_line, s in per_log[log_fields["_id"]]:
                if measured(s):
                    reps = int(s["reps"]) if s["reps"] else None
                    weight = float(s["weight_lbs"] or 0)
                    kind = kinds[s["set_type"]]
                    found.append(Expected(set_line, weight, reps, kind, int(s["log_time"])))
            reading.skipped += len(per_log[log_fields["_id"]]) - len(found)
            reading.logs_with_rows[line] = len(found)
        elif is_cardio(entries):
            seconds = [float(r) for _, r in entries[4::5]]
            found = [Expected(line, 0.0, None, "working", time) for s in seconds if s > 0]
            reading.skipped += len(seconds) - len(found)
        else:
            reps_of = [(float(w), int(r)) for w, r in entries]
            found = [Expected(line, w, r, "working", time) for w, r in reps_of if r > 0]
            reading.skipped += len(entries) - len(found)
        reading.sets += found
        if found:
            reading.sessions.add(log_fields["belongsession"])
    return reading


@needs_real_data
def test_real_export(workspace: Workspace, real_reading: Reading) -> None:
    expected = real_reading.sets
    result = workspace.ingest("u1/jefit.csv", (REAL_DATA / REAL).read_text(encoding="utf-8"))
    assert (result.format, result.status) == ("jefit_csv", "loaded")
    assert (result.loaded, result.rejected, result.skipped) == (
        len(expected),
        0,
        real_reading.skipped,
    )
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
    types = dict(workspace.query("SELECT set_type, count(*) FROM sets GROUP BY ALL"))
    assert types == dict(Counter(s.kind for s in expected))
    assert types["warmup"] == 2  # JEFIT's `warm-up`; every other set row says `default`
    timed = workspace.scalar("SELECT count(*) FROM sets WHERE reps IS NULL")
    assert timed == sum(1 for s in expected if s.reps is None) > 0
    volume = workspace.scalar("SELECT sum(reps * load_kg) FROM sets")
    assert volume == pytest.approx(sum(s.weight * (s.reps or 0) for s in expected) * LB_TO_KG)
    first, last = workspace.query("SELECT min(performed_at), max(performed_at) FROM sets")[0]
    times = [s.time for s in expected]
    assert (first, last) == (
        datetime.fromtimestamp(min(times), UTC),
        datetime.fromtimestamp(max(times), UTC),
    )
    assert (first.year, last.year) == (2010, 2026)
    sessions = workspace.scalar("SELECT count(DISTINCT session_id) FROM sets")
    assert sessions == len(real_reading.sessions)


@needs_real_data
def test_real_export_counts_no_set_twice(workspace: Workspace, real_reading: Reading) -> None:
    workspace.ingest("u1/jefit.csv", (REAL_DATA / REAL).read_text(encoding="utf-8"))
    lines = Counter(line for (line,) in workspace.query("SELECT source_line FROM sets"))
    with_rows = real_reading.logs_with_rows
    # The file really has logs with both a packed cell and set rows: 600 of them.
    assert len(with_rows) == 600 and real_reading.doubled > 0
    # Their packed cells gave no set: each of their sets is one set row.
    assert not set(lines) & set(with_rows)
    assert all(lines[line] == 1 for line in real_reading.set_lines if line in lines)
    assert sum(lines[line] for line in real_reading.set_lines) == sum(with_rows.values())
    # So the file's sets are the other logs' packed cells plus the set rows, and no more.
    packed = Counter(s.line for s in real_reading.sets if s.line not in real_reading.set_lines)
    assert {line: n for line, n in lines.items() if line not in real_reading.set_lines} == packed


def test_jefit_names_map_to_the_catalog() -> None:
    from flows.config import load
    from schemas.config_files import exercise_key

    aliases = load({}).catalog.alias_map()
    for name in ("Hyperextensions - Back Extensions", "Back Extensions - Hyperextensions"):
        assert aliases[exercise_key(name)] == "back_extension"
