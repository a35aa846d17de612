"""The machine export: its published schema, JSON and JSON Lines, members, stack increments."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from schemas.machine_export import MachineExport
from schemas.set_row import RowContext
from schemas.validate import validate
from sources import detect, read
from tests.conftest import ROOT, Workspace

EXPORT = {
    "format": "repflow.machine/1",
    "machine": {
        "id": "BX-0042",
        "model": "Lower Back Extension",
        "exercise": "Back Extension (Machine)",
        "stack_increment_kg": 5,
    },
    "sessions": [
        {
            "member_id": "a7",
            "started_at": "2026-11-19T07:30:00+01:00",
            "sets": [{"reps": 12, "weight_kg": 40, "duration_s": 35, "rpe": 8}],
        }
    ],
}


def test_published_json_schema_is_current() -> None:
    published = json.loads((ROOT / "docs" / "machine_export.schema.json").read_text())
    assert published == MachineExport.model_json_schema()
    MachineExport.model_validate(EXPORT)  # the example in the docs is valid


def test_single_export_loads_with_member_device_and_increment(workspace: Workspace) -> None:
    path = workspace.write("gym/export.json", json.dumps(EXPORT))
    assert detect(path.read_bytes()).FORMAT == "machine_json"
    parsed = read(path)
    assert parsed.names_athletes
    assert parsed.machines is not None
    assert parsed.machines.row(0) == (
        "BX-0042",
        "Lower Back Extension",
        "Back Extension (Machine)",
        5.0,
    )
    sets = validate(parsed.rows, RowContext(), "gym").sets
    row = sets.row(0, named=True)
    assert (row["athlete_id"], row["device_id"], row["reps"], row["load_kg"]) == (
        "a7",
        "BX-0042",
        12,
        40.0,
    )
    assert (row["duration_s"], row["rpe"], row["set_index"]) == (35.0, 8.0, 1)
    assert str(row["performed_at"]) == "2026-11-19 06:30:00+00:00"


def test_json_lines_with_a_broken_line_and_a_bad_set(workspace: Workspace) -> None:
    other = {
        **EXPORT,
        "sessions": [
            {
                "started_at": "2026-11-20T07:30:00",
                "sets": [{"reps": 10, "weight_kg": 45}, {"reps": -1, "weight_kg": 45}],
            }
        ],
    }
    text = json.dumps(EXPORT) + "\n{not json\n" + json.dumps(other) + "\n"
    path = workspace.write("gym/exports.jsonl", text)
    parsed = read(path)
    validated = validate(parsed.rows, RowContext(), "gym")
    assert validated.sets["athlete_id"].to_list() == ["a7", "gym"]  # no member: the folder
    assert validated.rejects["source_line"].to_list() == [2, 3]
    errors = validated.rejects["errors"].to_list()
    assert "structure" in errors[0] and '"field": "reps"' in errors[1]


def test_wrong_envelope_is_a_clear_reject(workspace: Workspace) -> None:
    bad = {**EXPORT, "machine": {"id": "BX-1"}}
    parsed = read(workspace.write("gym/bad.json", json.dumps(bad)))
    assert parsed.rows["structure_error"][0].startswith(
        "not a repflow.machine/1 export: machine.exercise"
    )
    assert isinstance(parsed.rows, pl.DataFrame)


def test_json_without_the_format_marker_is_not_a_machine_export(tmp_path: Path) -> None:
    assert not __import__("sources").machine_json.detect(b'{"sessions": []}')


def test_machine_stack_increment_is_the_load_step_end_to_end(workspace: Workspace) -> None:
    from datetime import date

    from flows import discovery, pipeline

    sessions = [
        {
            "member_id": "a7",
            "started_at": f"2026-11-{day}T07:30:00+01:00",
            "sets": [{"reps": 15, "weight_kg": 40}] * 3,
        }
        for day in (16, 19)
    ]
    export = {
        **EXPORT,
        "machine": {**EXPORT["machine"], "stack_increment_kg": 7.5},
        "sessions": sessions,
    }
    workspace.write("machine.json", json.dumps(export))  # at the root: it names its athletes
    config = workspace.config()
    summary = pipeline.execute(config, discovery.inbox_files(config)[0], "run", date(2026, 11, 20))
    assert summary.exit_code == 0
    assert workspace.query(
        "SELECT athlete_id, action, next_sets, next_reps, next_load_kg FROM v_current_flags",
        db=workspace.snapshot,
    ) == [("a7", "raise_load", 3, 8, 47.5)]
