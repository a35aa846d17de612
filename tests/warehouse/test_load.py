"""Warehouse guarantees: one transaction per file, and analysts never blocked by a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import polars as pl
import pytest

import warehouse.load as load
from flows import discovery, pipeline, runs
from tests.conftest import Workspace, csv_text, parse_file
from warehouse.db import writer

ROWS = [f"2026-11-{day:02d}T07:00:00,Squat,5,{60 + day},kg,," for day in range(1, 29)]


def _run(workspace: Workspace) -> runs.RunSummary:
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", date(2026, 11, 30))


def test_process_killed_mid_file_leaves_nothing_and_the_next_run_loads_it_whole(
    workspace: Workspace,
) -> None:
    workspace.write("a1/export.csv", csv_text(*ROWS, "2026-11-29T07:00:00,Squat,x,0,kg,,"))
    script = textwrap.dedent(
        f"""
        import os, signal
        import warehouse.load as load
        from flows import discovery, parsing, pipeline, runs
        from flows.config import load as load_config

        def then_die(step):
            def wrapped(*args):
                step(*args)  # rows are in, the transaction is not committed
                os.kill(os.getpid(), signal.SIGKILL)
            return wrapped
        # A first load takes the fresh path, a file overlapping stored sets the merge.
        load._merge = then_die(load._merge)
        load._insert_fresh = then_die(load._insert_fresh)
        config = load_config({{"inbox": {str(workspace.inbox)!r}, "db": {str(workspace.db)!r}}})
        files, _ = discovery.inbox_files(config)
        pipeline.execute(config, files, "ingest", None)
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    for table in ("sets", "rejects", "ingested_files", "runs"):
        assert workspace.scalar(f"SELECT count(*) FROM {table}") == 0, table
    summary = _run(workspace)
    assert summary.total("loaded") == len(ROWS) and summary.total("rejected") == 1
    assert workspace.scalar("SELECT count(*) FROM sets") == len(ROWS)


def test_run_replaces_the_snapshot_while_an_analyst_holds_it_open(workspace: Workspace) -> None:
    workspace.write("a1/first.csv", csv_text(*ROWS[:10]))
    _run(workspace)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"con = duckdb.connect({str(workspace.snapshot)!r}, read_only=True)\n"
            "print(con.sql('SELECT count(*) FROM sets').fetchone()[0], flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.sql('SELECT count(*) FROM sets').fetchone()[0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "10"
        old_inode = workspace.snapshot.stat().st_ino
        workspace.write("a1/second.csv", csv_text(*ROWS[10:]))
        summary = _run(workspace)
        assert summary.published and summary.exit_code == 0
        assert workspace.snapshot.stat().st_ino != old_inode
        assert workspace.query("SELECT count(*) FROM sets", db=workspace.snapshot) == [(len(ROWS),)]
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "10"  # the analyst's view stays whole
    finally:
        holder.kill()
        holder.wait()


def test_snapshot_is_not_rewritten_when_nothing_changed(workspace: Workspace) -> None:
    workspace.write("a1/first.csv", csv_text(*ROWS[:10]))
    assert _run(workspace).published
    before = workspace.snapshot.stat().st_mtime_ns
    again = _run(workspace)
    assert not again.published and not again.rules_ran
    assert workspace.snapshot.stat().st_mtime_ns == before


def _sets(workspace: Workspace) -> list[tuple[object, ...]]:
    return workspace.query(
        "SELECT * EXCLUDE (run_id, file_id) FROM sets ORDER BY athlete_id, performed_at, set_index"
    )


def test_a_fresh_load_stores_what_the_merge_would(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [*ROWS, "2026-11-29T07:00:00,Bench Press,8,40,kg,8,", "2026-11-29,Row,,,kg,,warmup"]
    workspace.write("a1/export.csv", csv_text(*rows))
    assert _run(workspace).total("loaded") == len(rows) - 1  # the row without reps is rejected
    fresh = _sets(workspace)

    other = Workspace(tmp_path_factory.mktemp("merged"))
    other.write("a1/export.csv", csv_text(*rows))
    monkeypatch.setattr(load, "fresh", lambda *args: False)
    assert _run(other).total("loaded") == len(rows) - 1
    assert _sets(other) == fresh


def test_fresh_means_no_stored_set_of_the_same_format_and_athlete_in_the_time_range(
    workspace: Workspace,
) -> None:
    workspace.write("a1/export.csv", csv_text(*ROWS[5:10]))
    _run(workspace)
    config = workspace.config()

    def frame(athlete: str, day: int, fmt: str | None = None) -> pl.DataFrame:
        sets = parse_file(workspace.write("x.csv", csv_text(ROWS[day - 1])), athlete, config)
        assert not isinstance(sets, str) and isinstance(sets.sets, pl.DataFrame)
        return sets.sets.with_columns(source_format=pl.lit(fmt, pl.String))

    def fresh(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame) -> bool:
        con.register("incoming_frame", incoming.to_arrow())
        return load.fresh(con, "canonical_csv")

    with writer(workspace.db) as con:
        assert not fresh(con, frame("a1", 7))  # inside the range
        assert fresh(con, frame("a1", 20))  # a later week
        assert fresh(con, frame("a2", 7))  # another athlete
        assert fresh(con, frame("a1", 7, "strong_csv"))  # another app
        assert fresh(con, frame("a1", 7).clear())  # nothing to store
