"""One athlete's folder can only fail itself (issue 21, faults 3 and 5): a folder too deep, a path
too long, a folder or a file the run may not read. Each fails alone, with its reason, the run
exits 1, and every other athlete's files load. No recursion that a folder can exhaust."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from flows import summary as report
from tests.conftest import Workspace, csv_text
from warehouse import journal

GOOD = csv_text("2026-11-03T07:00:00,Squat,5,100,kg,,")
OTHER = csv_text("2026-11-04T07:00:00,Bench Press,5,60,kg,,")


def run(workspace: Workspace) -> runs.RunSummary:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", date(2026, 11, 30), skipped=skipped)


def deep(base: Path, levels: int, name: str = "d") -> Path:
    """A chain of `levels` nested folders under `base`, made one level at a time."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        file = os.open("lost.csv", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(file, GOOD.encode())
        os.close(file)
    finally:
        os.close(fd)
    return base


def flatten(base: Path, name: str = "d") -> None:
    """Remove a chain made by `deep` from the top down, a level at a time: pytest's own clean-up
    (shutil.rmtree) recurses, and would fail on it in every later session."""
    top, below, spare = base / name, base / name / name, base / f"{name}.next"
    while top.exists():
        if below.exists():
            below.rename(spare)
        for leftover in top.iterdir():
            leftover.unlink()
        top.rmdir()
        if spare.exists():
            spare.rename(top)


@pytest.fixture
def deep_inbox(workspace: Workspace) -> Iterator[Path]:
    """a1's folder, 1,200 levels deep below it, removed again after the test."""
    folder = workspace.inbox / "a1"
    folder.mkdir()
    deep(folder, 1200)
    yield folder
    flatten(folder)


def test_a_folder_1200_levels_deep_fails_alone(workspace: Workspace, deep_inbox: Path) -> None:
    workspace.write("a1/top.csv", GOOD)
    workspace.write("b2/fine.csv", OTHER)
    summary = run(workspace)
    assert summary.exit_code == 1 and summary.status == "completed_with_failures"
    assert {info.path for info, _ in summary.files} == {"a1/top.csv", "b2/fine.csv"}
    assert summary.count("loaded") == 2
    (problem,) = summary.problems
    assert problem.startswith("'a1/d/d/") and "more than 64 folders deep" in problem
    assert any("more than 64 folders deep" in line for line in report.lines(summary))
    (end,) = [r for r in journal.read(workspace.journal) if r["event"] == "end"]
    assert end["problems"] == [problem]  # the journal lists it too


def test_a_path_longer_than_the_system_allows_fails_alone(workspace: Workspace) -> None:
    workspace.write("b2/fine.csv", OTHER)
    (workspace.inbox / "a1").mkdir()
    limit = os.pathconf(workspace.inbox, "PC_PATH_MAX")
    levels = (limit - len(str(workspace.inbox))) // 201 + 1
    deep(workspace.inbox / "a1", levels, "n" * 200)  # past PATH_MAX, within 64 levels
    summary = run(workspace)
    assert summary.exit_code == 1
    assert [info.path for info, _ in summary.files] == ["b2/fine.csv"]
    (problem,) = summary.problems
    assert "File name too long" in problem and "…" in problem  # shortened in the middle


def without_root_powers() -> list[str]:
    """A command prefix under which permissions hold: root's power to read anything dropped
    (setpriv), or nothing for another user."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root, and no setpriv to drop the power to read anything")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def repflow_as_a_user(workspace: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    """`repflow` as a user whom permissions bind, as a service's user is."""
    binary = str(Path(sys.executable).with_name("repflow"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPFLOW_")}
    env["REPFLOW_SETTLE_S"] = "0"
    return subprocess.run(
        [*without_root_powers(), binary, *args],
        cwd=workspace.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_unreadable_athlete_folder_fails_alone(workspace: Workspace) -> None:
    workspace.write("a1/hidden.csv", GOOD)
    workspace.write("b2/fine.csv", OTHER)
    (workspace.inbox / "a1").chmod(0)
    try:
        result = repflow_as_a_user(workspace, "ingest", str(workspace.inbox))
    finally:
        (workspace.inbox / "a1").chmod(0o755)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "completed_with_failures" in result.stdout
    assert "skipped 'a1': Permission denied: not read" in result.stdout
    assert workspace.query("SELECT athlete_id, status FROM ingested_files") == [("b2", "loaded")]


def test_an_unreadable_file_is_failed_with_its_reason(workspace: Workspace) -> None:
    locked = workspace.write("a1/locked.csv", GOOD)
    workspace.write("a1/fine.csv", OTHER)
    locked.chmod(0)
    result = repflow_as_a_user(workspace, "ingest", str(workspace.inbox))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert workspace.query("SELECT path, status, error FROM ingested_files ORDER BY path") == [
        ("a1/fine.csv", "loaded", None),
        ("a1/locked.csv", "failed", "could not read the file: Permission denied"),
    ]
    locked.chmod(0o644)  # fixed: the next run loads it, and its failure is replaced
    again = repflow_as_a_user(workspace, "ingest", str(workspace.inbox))
    assert again.returncode == 0, again.stdout + again.stderr
    assert workspace.query("SELECT path, status FROM ingested_files ORDER BY path") == [
        ("a1/fine.csv", "loaded"),
        ("a1/locked.csv", "loaded"),
    ]
