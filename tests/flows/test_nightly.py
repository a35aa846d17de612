"""The Prefect flow under Prefect's test harness (started once per session)."""

from __future__ import annotations

from datetime import date

import pytest
from prefect.artifacts import Artifact

from flows import parsing
from tests.conftest import Workspace, csv_text

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


def test_the_dask_parse_task_retries_io_errors_only(
    prefect_harness: None, workspace: Workspace
) -> None:
    """A parse on a Dask worker is a task, retried when its read fails with an OSError; a bad
    file is a result, not an error, and is not retried. (A local run retries its reads in
    plain Python: tests/flows/test_reading.py.)"""
    from flows.nightly import _retry_on_io, parse_to_arrow_task

    path = workspace.write("a1/bad.csv", "not,a,log\n")
    sha256 = parsing.fingerprint(path, "a1/bad.csv", "a1").sha256
    context = workspace.config().settings.row_context()
    result = parse_to_arrow_task.fn(str(path), "a1", context, sha256)
    assert isinstance(result, str) and "unrecognised format" in result
    assert parse_to_arrow_task.retry_condition_fn is _retry_on_io
    assert parse_to_arrow_task.retries == 2
