"""`repflow sql` without a query, and `repflow report`'s errors, as a user runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import repflow


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def fake_duckdb(folder: Path) -> Path:
    """A `duckdb` on PATH that records the arguments it was started with."""
    folder.mkdir()
    shell = folder / "duckdb"
    shell.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {folder / "argv"}\n')
    shell.chmod(0o755)
    return folder


def test_sql_without_a_query_opens_the_duckdb_shell_on_the_snapshot_read_only(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    bin_dir = fake_duckdb(tmp_path / "bin")
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow(
        "sql", "--db", str(db), cwd=tmp_path, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (bin_dir / "argv").read_text().splitlines() == ["-readonly", str(sample_snapshot)]


def test_sql_without_a_query_or_a_duckdb_shell_says_how_and_exits_2(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow("sql", "--db", str(db), cwd=tmp_path, env={"PATH": str(empty)})
    no_traceback(result)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert "no duckdb shell on PATH" in message and 'repflow sql "SELECT' in message


def test_sql_shell_before_any_run_says_so_and_does_not_start_the_shell(tmp_path: Path) -> None:
    bin_dir = fake_duckdb(tmp_path / "bin")
    result = repflow("sql", cwd=tmp_path, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    no_traceback(result)
    assert result.returncode == 1 and "does not exist yet" in result.stderr
    assert not (bin_dir / "argv").exists()


def test_report_for_an_unknown_athlete_exits_2(sample_snapshot: Path, tmp_path: Path) -> None:
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow("report", "--db", str(db), "--athlete", "nobody", "--out", "out", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.strip() == f"repflow: athlete 'nobody' has no sets in {sample_snapshot}"
    assert not (tmp_path / "out").exists()


def test_report_before_any_run_exits_1(tmp_path: Path) -> None:
    result = repflow("report", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1 and "does not exist yet" in result.stderr
