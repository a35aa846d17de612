"""The runs journal (`<db>.runs.jsonl`): every run's start and end, the file each parse is about to
read; a run killed in a parse (out of memory) is named by the next run and by `repflow status`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from flows import summary as report
from tests.conftest import ROOT, Workspace, csv_text, repflow
from warehouse import journal

ONE = csv_text("2026-11-03T07:00:00,Squat,5,100,kg,,")
TWO = csv_text("2026-11-04T07:00:00,Bench Press,5,60,kg,,")


def run(workspace: Workspace) -> runs.RunSummary:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", date(2026, 11, 30), skipped=skipped)


def test_records_and_runs(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb.runs.jsonl"
    with journal.Journal(path) as log:
        log.write("start", run_id="r1", command="run", pid=1)
        log.write("parse", run_id="r1", path="a1/x.csv", bytes=10)
        log.write("end", run_id="r1", status="succeeded", files_loaded=1, error=None)
        log.write("start", run_id="r2", command="ingest", pid=2)
        log.write("parse", run_id="r2", path="a1/big.csv", bytes=10**9)
    with path.open("a") as handle:
        handle.write('{"event": "start", "run_id": "r3", "comm')  # a write cut by a kill
    records = journal.read(path)
    assert [r["event"] for r in records] == ["start", "parse", "end", "start", "parse"]
    rows = {row["run_id"]: row for row in journal.runs(records)}
    assert rows["r1"]["status"] == "succeeded" and rows["r1"]["files_loaded"] == 1
    assert rows["r2"]["status"] == "interrupted"
    assert "while it parsed 'a1/big.csv'" in rows["r2"]["error"]
    (gone,) = journal.interrupted(records, current="r9")
    assert (gone.run_id, gone.parsing) == ("r2", "a1/big.csv")
    assert journal.interrupted(records, current="r2") == []  # itself, not an earlier run


def test_a_killed_run_is_said_once_by_the_next(tmp_path: Path) -> None:
    records = [
        {"event": "start", "run_id": "r1", "at": "t1"},
        {"event": "start", "run_id": "r2", "at": "t2"},
        {"event": "end", "run_id": "r2", "status": "succeeded"},
        {"event": "start", "run_id": "r3", "at": "t3"},
    ]
    # r1 died before r2 ended: r2 said so; the run after r2 says nothing of it.
    assert journal.interrupted(records, current="r3") == []


def test_the_journal_rotates_and_its_tail_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb.runs.jsonl"
    monkeypatch.setattr(journal, "ROTATE_BYTES", 200)
    monkeypatch.setattr(journal, "TAIL_BYTES", 150)
    with journal.Journal(path) as log:
        for n in range(5):
            log.write("end", run_id=f"r{n}", status="succeeded")
        log.rotate()
        log.write("end", run_id="r5", status="succeeded")
    assert path.with_name(path.name + ".1").exists()
    assert [r["run_id"] for r in journal.read(path)] == [f"r{n}" for n in range(6)]
    assert [r["run_id"] for r in journal.tail(path)] == ["r5"]


def test_every_run_is_in_the_journal_and_a_run_killed_in_a_parse_is_named(
    workspace: Workspace,
) -> None:
    """A parse that takes the process down (here a SIGKILL, as the out-of-memory killer sends):
    the next run's summary names the file, and `repflow status` lists the run as interrupted."""
    workspace.write("a1/big.csv", ONE)
    workspace.write("b2/fine.csv", TWO)
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import date
        from flows import batch_parse, discovery, pipeline
        from flows.config import load

        def dying(reads, config):
            if any(athlete == "a1" for _, athlete in reads):
                os.kill(os.getpid(), signal.SIGKILL)
            return batch_parse.parse_batch(reads, config)

        config = load({{"inbox": {str(workspace.inbox)!r}, "db": {str(workspace.db)!r},
                        "settle_s": 0}})
        files, skipped = discovery.inbox_files(config)
        pipeline.execute(config, files, "run", date(2026, 11, 30), pipeline.Steps(parse=dying))
        """
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    summary = run(workspace)
    (gone,) = summary.interrupted
    # Both files are one batch: the run names the first and how many more it was parsing.
    assert gone.parsing == "a1/big.csv" and gone.files == 2
    said = "while it parsed 'a1/big.csv' and 1 more file of its batch"
    assert any(said in line for line in report.lines(summary))
    assert summary.count("loaded") == 2  # no quarantine: the file is simply read again
    assert run(workspace).interrupted == []  # said once
    records = journal.read(workspace.journal)
    statuses = [row["status"] for row in journal.runs(records)]
    assert statuses == ["interrupted", "succeeded", "succeeded"]
    shown = repflow("status", cwd=workspace.root, env={"COLUMNS": "300"})
    assert shown.returncode == 0 and "interrupted" in shown.stdout
    assert [json.loads(line)["event"] for line in workspace.journal.read_text().splitlines()][
        :2
    ] == ["start", "parse"]
