"""`repflow ingest` paths (issue 17, item 3): a missing path is bad usage, a folder is read like
an inbox, a FIFO named on the command line fails with a reason without being waited on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from tests.conftest import Workspace, csv_text, repflow

ONE = csv_text("2026-11-03T07:00:00,Squat,5,100,kg,,")
TWO = csv_text("2026-11-04T07:00:00,Bench Press,5,60,kg,,")


def ingest(workspace: Workspace, *paths: Path, athlete: str | None = None) -> runs.RunSummary:
    config = workspace.config()
    found, skipped = discovery.named_files(list(paths), athlete, config)
    return pipeline.execute(config, found, "ingest", None, skipped=skipped)


def stored(workspace: Workspace) -> list[tuple[str, str]]:
    return workspace.query("SELECT athlete_id, exercise_raw FROM sets ORDER BY ALL")


def test_a_missing_path_is_bad_usage_and_nothing_loads(workspace: Workspace) -> None:
    good = workspace.write("a1/one.csv", ONE)
    with pytest.raises(discovery.UsageError, match=r"no such file or folder: .*missing\.csv"):
        discovery.named_files([good, workspace.root / "missing.csv"], None, workspace.config())
    done = repflow(
        "ingest", str(good), "missing.csv", "--db", str(workspace.db), cwd=workspace.root
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no such file or folder: missing.csv" in done.stderr
    assert not workspace.db.exists()  # nothing loaded, not even the good file


def test_the_inbox_named_as_a_folder_is_read_like_the_inbox(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", ONE)
    workspace.write("b2/deep/two.csv", TWO)
    workspace.write("b2/.DS_Store", "junk")
    summary = ingest(workspace, workspace.inbox)
    assert summary.count("loaded") == 2 and summary.exit_code == 0
    assert stored(workspace) == [("a1", "Squat"), ("b2", "Bench Press")]
    assert [info.path for info, _ in summary.files] == ["a1/one.csv", "b2/deep/two.csv"]
    assert summary.ignored == [repr("b2/.DS_Store")]


def test_an_athlete_folder_keeps_its_athlete_and_inbox_paths(workspace: Workspace) -> None:
    workspace.write("a1/sub/one.csv", ONE)
    summary = ingest(workspace, workspace.inbox / "a1")
    assert [(i.path, i.athlete_id) for i, _ in summary.files] == [("a1/sub/one.csv", "a1")]


def test_a_folder_outside_the_inbox(workspace: Workspace) -> None:
    outside = workspace.root / "exports"
    (outside / "a1").mkdir(parents=True)
    (outside / "a1" / "one.csv").write_text(ONE)
    (outside / "loose").mkdir()
    (outside / "loose" / "two.csv").write_text(TWO)
    summary = ingest(workspace, outside / "loose", athlete="ann")
    assert stored(workspace) == [("ann", "Bench Press")]
    assert summary.files[0][0].path == str(outside / "loose" / "two.csv")
    ingest(workspace, outside)  # without --athlete: its athlete folders
    assert ("a1", "Squat") in stored(workspace)


def test_a_fifo_named_fails_without_waiting_and_inside_a_folder_is_skipped(
    workspace: Workspace,
) -> None:
    good = workspace.write("a1/one.csv", ONE)
    fifo = workspace.inbox / "a1" / "pipe.csv"
    os.mkfifo(fifo)
    summary = ingest(workspace, good, fifo)  # a read of the FIFO would block forever
    assert summary.count("loaded") == 1 and summary.exit_code == 1
    assert summary.status == "completed_with_failures"
    assert summary.skipped_paths == [
        f"{str(fifo)!r}: not a regular file (a FIFO, socket or device): not read"
    ]
    folder = ingest(workspace, workspace.inbox / "a1")
    assert folder.exit_code == 0
    assert folder.skipped_paths == ["'a1/pipe.csv': not a regular file"]
    done = repflow(
        "ingest",
        str(fifo),
        "--athlete",
        "a1",
        "--db",
        str(workspace.db),
        cwd=workspace.root,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "not a regular file (a FIFO, socket or device)" in done.stdout
