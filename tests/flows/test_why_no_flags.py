"""When the rules ran and gave no flag, `repflow run`, `repflow flags` and the report say why
and what to change, instead of "no flags yet"."""

from __future__ import annotations

from datetime import date

import pytest
from typer.testing import CliRunner

from flows import cli, discovery, pipeline, summary
from flows.runs import NOT_RUN, RunSummary
from tests.conftest import Workspace, csv_text

ROWS = [
    "2026-01-05T07:00:00Z,Squat,5,100,kg,,working",
    "2026-01-05T07:03:00Z,Squat,5,100,kg,,working",
    "2026-01-08T07:00:00Z,Squat,5,100,kg,,working",
]
DORMANT = "Every exercise is dormant: the last session, squat on 2026-01-08, is 357 days before"


def run(workspace: Workspace, as_of: date) -> RunSummary:
    config = workspace.config()
    found, _ = discovery.inbox_files(config)
    return pipeline.execute(config, found, "run", as_of)


@pytest.fixture
def dormant(workspace: Workspace) -> Workspace:
    workspace.write("a7/log.csv", csv_text(*ROWS))
    result = run(workspace, date(2026, 12, 31))
    assert result.rules_ran and result.flags is not None and result.flags.height == 0
    return workspace


def test_a_run_that_gives_no_flag_says_why(dormant: Workspace) -> None:
    result = run(dormant, date(2026, 12, 30))  # another as-of date: the rules run again
    assert (result.silence or "").startswith(DORMANT.replace("357", "356"))
    lines = summary.lines(result)
    assert lines[lines.index("  flags as of 2026-12-30: none") + 1].startswith(
        "  why none: Every exercise is dormant"
    )
    assert "**Why no flag:** Every exercise is dormant" in summary.markdown(result)
    assert "--as-of 2026-01-09" in (result.silence or "")
    assert run(dormant, date(2026, 1, 9)).silence is None  # the advice gives flags


def test_flags_and_the_report_say_why(dormant: Workspace) -> None:
    db = ["--db", str(dormant.db)]
    printed = CliRunner().invoke(cli.app, ["flags", *db])
    assert printed.exit_code == 0, printed.output
    assert DORMANT in " ".join(printed.output.split())
    for_athlete = CliRunner().invoke(cli.app, ["flags", *db, "--athlete", "b2"])
    assert "No sets are stored for athlete b2 yet" in " ".join(for_athlete.output.split())
    written = CliRunner().invoke(cli.app, ["report", *db, "--out", str(dormant.root / "out")])
    assert written.exit_code == 0, written.output
    html = (dormant.root / "out" / "index.html").read_text()
    assert DORMANT in html and "No flags yet" not in html


def test_before_the_rules_ever_ran_flags_say_so(workspace: Workspace) -> None:
    workspace.write("a7/log.csv", csv_text(*ROWS))
    config = workspace.config()
    found, _ = discovery.inbox_files(config)
    pipeline.execute(config, found, "ingest", None)
    printed = CliRunner().invoke(cli.app, ["flags", "--db", str(workspace.db)])
    assert printed.exit_code == 0 and NOT_RUN in printed.output
