"""Warehouse guarantees: one transaction per file, and analysts never blocked by a run."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import date

from flows import pipeline
from tests.conftest import Workspace, csv_text

ROWS = [f"2026-11-{day:02d}T07:00:00,Squat,5,{60 + day},kg,," for day in range(1, 29)]


def _run(workspace: Workspace) -> pipeline.RunSummary:
    config = workspace.config()
    files, _ = pipeline.inbox_files(config)
    return pipeline.execute(config, files, "run", date(2026, 11, 30))


def test_process_killed_mid_file_leaves_nothing_and_the_next_run_loads_it_whole(
    workspace: Workspace,
) -> None:
    workspace.write("a1/export.csv", csv_text(*ROWS, "2026-11-29T07:00:00,Squat,x,0,kg,,"))
    script = textwrap.dedent(
        f"""
        import os, signal
        import warehouse.load as load
        from flows import pipeline
        from flows.config import load as load_config

        merge = load._merge
        def merge_then_die(con, file_id, run_id):
            merge(con, file_id, run_id)  # rows are in, the transaction is not committed
            os.kill(os.getpid(), signal.SIGKILL)
        load._merge = merge_then_die
        config = load_config({{"inbox": {str(workspace.inbox)!r}, "db": {str(workspace.db)!r}}})
        files, _ = pipeline.inbox_files(config)
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
