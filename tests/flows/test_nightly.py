"""The Prefect flow under Prefect's test harness (started once per session)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest
from prefect.artifacts import Artifact

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
    assert workspace.query(
        "SELECT action, next_sets, next_reps, next_load_kg FROM v_current_flags",
        db=workspace.snapshot,
    ) == [("raise_reps", 3, 11, 60.0)]
    markdown = Artifact.get("nightly-summary")
    assert markdown is not None and summary.run_id in str(markdown.data)
    assert "completed_with_failures" in str(markdown.data)
    table = Artifact.get("nightly-files")
    assert table is not None and "broken.bin" in str(table.data)


def test_parse_task_retries_an_io_error_then_succeeds(
    prefect_harness: None, workspace: Workspace
) -> None:
    import threading

    from prefect import flow

    from flows.nightly import parse_task

    path = workspace.inbox / "a1" / "late.csv"
    path.parent.mkdir()
    config = workspace.config()

    @flow
    def parse_once() -> object:
        return parse_task.with_options(retry_delay_seconds=[1, 1])(path, "a1", config)

    # The file appears only after the first attempt has failed with FileNotFoundError.
    appear = threading.Timer(
        0.5, lambda: path.write_text(csv_text("2026-11-16T07:00:00,Squat,5,100,kg,,"))
    )
    appear.start()
    try:
        result = parse_once()
    finally:
        appear.cancel()
    assert not isinstance(result, str)
    assert result.sets.height == 1


def test_parse_task_does_not_retry_a_bad_file(prefect_harness: None, workspace: Workspace) -> None:
    from flows.nightly import _retry_on_io, parse_task

    path = workspace.write("a1/bad.csv", "not,a,log\n")
    result = parse_task.fn(path, "a1", workspace.config())
    assert isinstance(result, str) and "unrecognised format" in result
    assert _retry_on_io is parse_task.retry_condition_fn


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
    assert "Flags as of 2029-01-01: none (the rules ran" in said()
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
