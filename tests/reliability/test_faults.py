"""Faults around the warehouse: another writer, a full disk, a read-only folder, a file that
vanishes. Each ends in a clear message and exit 1, with the previous warehouse intact."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows import discovery, parsing, pipeline
from tests.cases import stored_sets_if_whole
from tests.conftest import Workspace, csv_text, repflow

ROWS = [f"2026-11-{day:02d}T07:00:00,Squat,5,{60 + day},kg,," for day in range(1, 29)]


def test_a_process_holding_the_database_blocks_for_a_bounded_time(workspace: Workspace) -> None:
    path = workspace.write("a1/x.csv", csv_text(*ROWS))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys\ncon = duckdb.connect({str(workspace.db)!r})\n"
            "print('ready', flush=True)\nsys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = repflow(
            "ingest", str(path), cwd=workspace.root, env={"REPFLOW_LOCK_TIMEOUT_S": "0.5"}
        )
        assert result.returncode == 1
        assert f"is held by process {holder.pid}" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()
    assert repflow("ingest", str(path), cwd=workspace.root).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MiB tmpfs: a real full disk, where the machine lets the test mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_is_a_clear_error_and_the_warehouse_survives(
    workspace: Workspace, small_disk: Path
) -> None:
    db = small_disk / "warehouse.duckdb"
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), "--db", str(db), cwd=workspace.root).returncode == 0
    big = workspace.root / "big.csv"
    rows = [
        f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00,Lift {n},5,60,kg,,"
        for n in range(250)
        for month in range(1, 13)
        for day in range(1, 29)
        for hour in (6, 18)
    ]
    big.write_text(csv_text(*rows))
    result = repflow("ingest", str(big), "--athlete", "a1", "--db", str(db), cwd=workspace.root)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "space" in result.stderr.lower() or "could not be written" in result.stderr
    assert not (small_disk / "analytics.duckdb.tmp").exists()
    # Whatever committed is whole: every stored set belongs to a file recorded as loaded.
    for database in (db, small_disk / "analytics.duckdb"):
        assert stored_sets_if_whole(database) >= 5


def test_read_only_folder_is_a_clear_error(workspace: Workspace, small_disk: Path) -> None:
    db = small_disk / "warehouse.duckdb"
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), "--db", str(db), cwd=workspace.root).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    second = workspace.write("a1/second.csv", csv_text(*ROWS[5:]))
    result = repflow("ingest", str(second), "--db", str(db), cwd=workspace.root)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("repflow: ")
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM sets").fetchone() == (5,)
    finally:
        con.close()


def test_a_file_that_vanishes_mid_run_fails_alone(workspace: Workspace) -> None:
    keep = workspace.write("a1/keep.csv", csv_text(*ROWS[:3]))
    gone = workspace.write("a1/gone.csv", csv_text(*ROWS[3:6]))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)

    def vanishing_parse(path: Path, athlete: str | None, cfg: pipeline.Config):
        if path == gone:
            path.unlink()
        return parsing.parse(path, athlete, cfg)

    summary = pipeline.execute(config, files, "ingest", None, pipeline.Steps(parse=vanishing_parse))
    outcomes = {info.path: outcome for info, outcome in summary.files}
    assert outcomes["a1/keep.csv"].status == "loaded"
    assert outcomes["a1/gone.csv"].status == "failed"
    assert "could not read the file" in str(outcomes["a1/gone.csv"].error)
    assert summary.exit_code == 1
    assert keep.exists()
