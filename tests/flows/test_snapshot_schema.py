"""A snapshot published before an upgrade's migrations: the report says so, and the next run
publishes a current one even when nothing else changed."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from flows import discovery, pipeline
from report import SnapshotOutdated, write_report
from tests.conftest import Workspace, csv_text
from warehouse.db import migrations

AS_OF = date(2026, 11, 20)


def test_an_outdated_snapshot_is_named_then_replaced_by_the_next_run(
    workspace: Workspace,
) -> None:
    workspace.write("a1/log.csv", csv_text("2026-11-16T07:00:00,Squat,5,60,kg,,"))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    assert pipeline.execute(config, files, "run", AS_OF).published
    latest = migrations()[-1][0]
    con = duckdb.connect(str(workspace.snapshot))  # as an older repflow would have left it
    con.execute("DROP VIEW v_exercise_progress")
    con.execute("DELETE FROM schema_migrations WHERE version >= 4")
    con.close()

    with pytest.raises(SnapshotOutdated, match=f"schema version 3 and this repflow needs {latest}"):
        write_report(workspace.snapshot, workspace.root / "out", config.programs, AS_OF)
    again = pipeline.execute(config, [], "run", AS_OF)

    assert again.published and not again.rules_ran  # nothing new: published for the schema
    assert (
        write_report(workspace.snapshot, workspace.root / "out", config.programs, AS_OF).charts == 1
    )
