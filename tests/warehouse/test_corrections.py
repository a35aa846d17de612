"""A fixed reader's changes are corrections, not the lifter's edits; `repflow reload` re-reads the
files an older reader read (issue: data loaded before a fix)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows import pipeline, summary
from sources import base, strong_csv
from tests.conftest import Workspace, repflow

HEADER = (
    '"Workout #";"Date";"Workout Name";"Duration (sec)";"Exercise Name";"Set Order";'
    '"Weight (kg)";"Reps";"RPE";"Distance (meters)";"Seconds";"Notes";"Workout Notes"'
)


def row(workout: int, day: str, order: str, weight: str, reps: str, name: str = "Squat") -> str:
    return (
        f'"{workout}";"{day} 18:00:00";"Legs";"3600";"{name}";"{order}";"{weight}";"{reps}";'
        '"";"";"";"";""'
    )


FIRST = [
    row(1, "2024-05-02", "WARM_UP", "40.0", "10"),
    row(1, "2024-05-02", "1", "80.0", "5"),
    row(1, "2024-05-02", "2", "80.0", "5"),
    row(1, "2024-05-02", "1", "0", "0", name="Plank"),  # nothing logged: not a set
]
LATER = [row(2, "2024-05-09", "1", "82.5", "5")]


def export(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def old_read(path: Path, hints: base.ReadHints) -> base.Parsed:
    """Strong's reader before the fix: WARM_UP a working set, a row with nothing logged a set."""
    parsed = real_read(path, hints)
    nothing = pl.DataFrame(
        {"source_line": [5], "raw": ["plank"], "structure_error": [None]},
        schema={"source_line": pl.Int64, "raw": pl.String, "structure_error": pl.String},
    ).with_columns(
        session_key=pl.lit("2024-05-02 18:00:00"),
        performed_at=pl.lit("2024-05-02T18:00:00"),
        exercise=pl.lit("Plank"),
        set_index=pl.lit("1"),
        set_type=pl.lit("working"),
        reps=pl.lit("0"),
        load=pl.lit("0.0"),
    )
    rows = parsed.rows.with_columns(set_type=pl.lit("working"))
    return base.Parsed(
        parsed.format, pl.concat([rows, nothing], how="diagonal_relaxed"), parsed.skipped - 1
    )


real_read = strong_csv.read
FIXED = strong_csv.VERSION  # the reader that corrects: today's


@pytest.fixture
def old_reader(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(strong_csv, "VERSION", 1)
    monkeypatch.setattr(strong_csv, "read", old_read)
    return monkeypatch


def stored(workspace: Workspace) -> list[tuple[object, ...]]:
    return workspace.query(
        "SELECT exercise_raw, set_type, reps, load_kg FROM sets ORDER BY exercise_raw, set_index"
    )


def test_reload_corrects_what_an_older_reader_stored(
    workspace: Workspace, old_reader: pytest.MonkeyPatch
) -> None:
    workspace.ingest("u1/strong.csv", export(FIRST))
    assert [r[1] for r in stored(workspace)] == ["working"] * 4  # the bug, as it was stored
    old_reader.undo()  # the upgrade
    assert pipeline.stale_files(workspace.db)[0].path == "u1/strong.csv"
    result = pipeline.reload(workspace.config(), date(2024, 5, 3))
    ((_, outcome),) = result.files
    assert (outcome.corrected, outcome.loaded, outcome.revised) == (2, 0, 0)
    assert "2 corrected" in summary.markdown(result)
    assert stored(workspace) == [
        ("Squat", "warmup", 10, 40.0),
        ("Squat", "working", 5, 80.0),
        ("Squat", "working", 5, 80.0),
    ]
    corrections = workspace.query(
        "SELECT change, exercise_key, set_type, reps, reader_version_before, reader_version "
        "FROM set_corrections ORDER BY change"
    )
    assert corrections == [
        ("changed", "squat", "working", 10, 1, FIXED),
        ("removed", "plank", "working", 0, 1, FIXED),
    ]
    assert workspace.scalar("SELECT count(*) FROM set_revisions") == 0
    assert workspace.query(
        "SELECT reader_version, rows_skipped FROM ingested_files WHERE status = 'loaded'"
    ) == [(FIXED, 1)]
    assert result.rules_ran and result.flags is not None
    assert workspace.query("SELECT command FROM runs ORDER BY started_at DESC LIMIT 1") == [
        ("reload",)
    ]
    # Nothing is left to re-read, and the snapshot has the corrections.
    assert pipeline.stale_files(workspace.db) == []
    assert pipeline.reload(workspace.config(), date(2024, 5, 3)).files == []
    assert workspace.query("SELECT count(*) FROM set_corrections", db=workspace.snapshot) == [(2,)]


def test_an_overlapping_export_after_an_upgrade_corrects_not_edits(
    workspace: Workspace, old_reader: pytest.MonkeyPatch
) -> None:
    workspace.ingest("u1/first.csv", export(FIRST))
    old_reader.undo()
    outcome = workspace.ingest("u1/second.csv", export(FIRST + LATER))
    assert (outcome.loaded, outcome.revised, outcome.corrected) == (1, 0, 1)
    assert workspace.query("SELECT change, set_type FROM set_corrections") == [
        ("changed", "working")
    ]
    # A lifter's edit, read by the same reader as the stored set, is an edit.
    edited = [r.replace('"82.5";"5"', '"82.5";"6"') for r in LATER]
    third = workspace.ingest("u1/third.csv", export(FIRST + edited))
    assert (third.revised, third.corrected) == (1, 0)
    revision = workspace.query("SELECT reps, load_kg FROM set_revisions")
    assert revision == [(5, 82.5)]


def test_a_later_edit_survives_a_reload_of_the_older_file(
    workspace: Workspace, old_reader: pytest.MonkeyPatch
) -> None:
    workspace.ingest("u1/first.csv", export(FIRST))
    # The lifter edits a working set in a later export, still read by the old reader.
    edited = [FIRST[0], FIRST[1].replace('"80.0";"5"', '"80.0";"4"'), *FIRST[2:]]
    workspace.ingest("u1/second.csv", export(edited))
    old_reader.undo()
    result = pipeline.reload(workspace.config(), date(2024, 5, 3))
    assert [info.path for info, _ in result.files] == ["u1/first.csv", "u1/second.csv"]
    assert stored(workspace)[:2] == [("Squat", "warmup", 10, 40.0), ("Squat", "working", 4, 80.0)]
    assert workspace.query("SELECT reps FROM set_revisions") == [(5,)]


def test_reload_keeps_the_sets_of_a_file_gone_from_the_inbox(
    workspace: Workspace, old_reader: pytest.MonkeyPatch
) -> None:
    workspace.ingest("u1/strong.csv", export(FIRST))
    old_reader.undo()
    (workspace.inbox / "u1" / "strong.csv").unlink()
    result = pipeline.reload(workspace.config(), date(2024, 5, 3))
    assert result.files == []
    (reason,) = result.skipped_paths
    assert "'u1/strong.csv': not re-read: not at" in reason
    assert workspace.scalar("SELECT count(*) FROM sets") == 4


def test_reload_command(workspace: Workspace, old_reader: pytest.MonkeyPatch) -> None:
    done = repflow(
        "reload", "--db", str(workspace.db), "--inbox", str(workspace.inbox), cwd=workspace.root
    )
    assert done.returncode == 0, done.stderr
    assert "nothing to re-read" in done.stdout
    stored_errors = workspace.query("SELECT count(*) FROM rejects")
    assert json.dumps(stored_errors) == "[[0]]"
