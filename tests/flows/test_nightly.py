"""The Prefect flow under Prefect's test harness (started once per session)."""

from __future__ import annotations

from datetime import date

import pytest
from prefect.artifacts import Artifact

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
