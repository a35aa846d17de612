"""The Prefect flow under Prefect's test harness (started once per session)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from prefect.artifacts import Artifact

from flows import parsing
from tests.conftest import ROOT, Workspace, csv_text

pytestmark = pytest.mark.slow


def test_nightly_flow_loads_flags_and_writes_artifacts(
    prefect_harness: None, workspace: Workspace
) -> None:
    from flows.nightly import nightly

    workspace.write(
        "a1/export.csv",
        csv_text(
            "2026-11-16T07:00:00,Bench Press,10,60,kg,,working",
            "2026-11-16T07:03:00,Bench Press,10,60,kg,,working",
            "2026-11-16T07:06:00,Bench Press,10,60,kg,,working",
            "2026-11-16T07:09:00,Bench Press,ten,60,kg,,working",
        ),
    )
    (workspace.inbox / "a1" / "broken.bin").write_bytes(b"\x00\xff" * 8)
    summary = nightly(
        settings={"inbox": str(workspace.inbox), "db": str(workspace.db)},
        as_of=date(2026, 11, 20),
    )
    assert summary.exit_code == 1 and summary.count("failed") == 1
    assert summary.total("loaded") == 3 and summary.total("rejected") == 1
    # the bench press follows the lifter's own scheme: one session to learn from, so it holds
    assert workspace.query(
        "SELECT action, next_sets, next_reps, next_load_kg FROM v_current_flags",
        db=workspace.snapshot,
    ) == [("hold", 3, 10, 60.0)]
    markdown = Artifact.get("nightly-summary")
    assert markdown is not None and summary.run_id in str(markdown.data)
    assert "completed_with_failures" in str(markdown.data)
    table = Artifact.get("nightly-files")
    assert table is not None and "broken.bin" in str(table.data)


def test_the_dask_parse_task_retries_io_errors_only(
    prefect_harness: None, workspace: Workspace
) -> None:
    """A parse on a Dask worker is a task (one a batch of files), retried when a read fails
    with an OSError; a bad file is a result, not an error, and is not retried. (A local run
    retries its reads in plain Python: tests/flows/test_reading.py.)"""
    from flows.nightly import _retry_on_io, parse_batch_task

    bad = workspace.write("a1/bad.csv", "not,a,log\n")
    good = workspace.write("a1/good.csv", csv_text("2026-11-16T07:00:00,Squat,5,100,kg,,working"))
    config = workspace.config()
    context, hints = config.settings.row_context(), parsing.hints_for(config, "a1")
    files = [
        (str(path), "a1", hints, parsing.fingerprint(path, path.name, "a1").sha256)
        for path in (bad, good)
    ]
    failed, loaded = parse_batch_task.fn(files, context)
    assert isinstance(failed, str) and "unrecognised format" in failed
    assert not isinstance(loaded, str) and loaded.sets.num_rows == 1
    assert parse_batch_task.retry_condition_fn is _retry_on_io
    assert parse_batch_task.retries == 2


HOLD_THE_LOCK = """
import sys
from pathlib import Path
from warehouse.lock import run_lock
with run_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_the_artifact_says_whether_the_rules_ran_and_what_stopped_a_run(
    prefect_harness: None, workspace: Workspace
) -> None:
    from flows.nightly import nightly

    workspace.write("a1/export.csv", csv_text("2026-11-16T07:00:00,Squat,5,100,kg,,working"))
    settings = {"inbox": str(workspace.inbox), "db": str(workspace.db), "lock_timeout_s": 0.2}

    def said() -> str:
        artifact = Artifact.get("nightly-summary")
        assert artifact is not None
        return str(artifact.data)

    # Years later every exercise is dormant: the rules run and flag nothing.
    ran = nightly(settings=settings, as_of=date(2029, 1, 1))
    assert ran.rules_ran and ran.flags is not None and ran.flags.height == 0
    assert f"# repflow run {ran.run_id}: succeeded" in said()
    assert "Flags as of 2029-01-01: none." in said()
    assert "**Why no flag:** Every exercise is dormant" in said()
    assert "(rules not re-run)" not in said()

    again = nightly(settings=settings, as_of=date(2029, 1, 1))  # nothing new, same date
    assert not again.rules_ran
    assert f"# repflow run {again.run_id}" in said()
    assert "Flags: unchanged (the sets, config and rules are as they last saw them)" in said()
    assert "Nothing new in the inbox." in said()

    # Another process holds the warehouse (the run lock is re-entrant within one process).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(workspace.db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        state = nightly(settings=settings, as_of=date(2029, 1, 2), return_state=True)
    finally:
        holder.communicate("")  # closes its stdin: it lets go and ends
    assert state.is_failed()
    assert "# repflow run failed" in said() and "WarehouseLocked: another repflow run" in said()
