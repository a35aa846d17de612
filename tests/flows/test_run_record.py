"""Flags are never stale, and every run that ends leaves its row (issue 17, items 1 and 2).

The rules run whenever the stored sets, the config, the as-of date or the rules' code differ
from what the current flags were computed from, decided from what is stored; a run that fails
records `failed` with its error, and the flags of the last run that evaluated the rules stay.
"""

from __future__ import annotations

from datetime import date

import pytest

from flows import discovery, pipeline, runs
from tests.conftest import Workspace, csv_text, repflow
from warehouse import journal
from warehouse.db import writer

AS_OF = date(2026, 11, 20)


def squat(day: int, reps: int = 10, load: int = 60) -> str:
    return ",".join([f"2026-11-{day:02d}T07:00:00", "Squat", str(reps), str(load), "kg", "", ""])


def run(workspace: Workspace, steps: pipeline.Steps | None = None) -> runs.RunSummary:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", AS_OF, steps or pipeline.Steps(), skipped=skipped)


def squat_flag(workspace: Workspace) -> tuple[str, int, int]:
    """The squat's progression flag: its action and the last session's sets × reps. The squat
    follows the lifter's own scheme: one session of 3×10 holds (one more to learn from), and
    3×11 after it is the top of the lifter's reps, held once before load is added."""
    ((action, sets, reps),) = workspace.query(
        "SELECT action, current_sets, current_reps FROM v_current_flags "
        "WHERE exercise_id = 'squat' AND kind = 'progression'"
    )
    return action, sets, reps


def test_an_ingest_between_two_runs_reaches_the_flags(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(*(squat(3) for _ in range(3))))
    assert run(workspace).rules_ran
    before = squat_flag(workspace)
    workspace.ingest("a1/two.csv", csv_text(*(squat(10, 11) for _ in range(3))))
    again = run(workspace)  # the same as-of date, nothing new in the inbox for this run
    assert again.rules_ran and again.total("loaded") == 0
    assert before == ("hold", 3, 10)
    assert squat_flag(workspace) == ("hold", 3, 11)  # from the ingested session


def test_nothing_changed_leaves_the_flags(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(*(squat(3) for _ in range(3))))
    run(workspace)
    assert not run(workspace).rules_ran


def test_a_run_killed_before_its_rules_is_caught_up(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(*(squat(3) for _ in range(3))))
    run(workspace)
    # A run killed after it stored a file, before the rules: the file is stored, no run row.
    workspace.ingest("a1/two.csv", csv_text(*(squat(10, 11) for _ in range(3))))
    with writer(workspace.db) as con:
        con.execute("DELETE FROM runs WHERE command = 'ingest'")
    assert run(workspace).rules_ran
    assert squat_flag(workspace) == ("hold", 3, 11)


def test_an_edit_a_removal_or_an_upgrade_of_the_rules_reruns_them(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write("a1/one.csv", csv_text(*(squat(3) for _ in range(3))))
    run(workspace)
    # The lifter edits a set: the same key, other reps.
    workspace.write("a1/edit.csv", csv_text(squat(3, 9), squat(3), squat(3)))
    assert run(workspace).rules_ran
    assert not run(workspace).rules_ran
    # A set removed (as `repflow reload` removes what a fixed reader no longer finds).
    with writer(workspace.db) as con:
        con.execute("DELETE FROM sets WHERE set_index = 3")
    assert run(workspace).rules_ran
    # An upgrade that changes the rules' code.
    monkeypatch.setattr(runs, "rules_fingerprint", lambda: "the next release")
    assert run(workspace).rules_ran
    assert not run(workspace).rules_ran


def test_the_rules_fingerprint_reads_the_rules_code() -> None:
    assert len(runs.rules_fingerprint()) == 64
    stored = runs.rules_fingerprint()
    runs.rules_fingerprint.cache_clear()
    assert runs.rules_fingerprint() == stored  # the same code, the same fingerprint


def failing_flag(*_: object) -> object:
    raise RuntimeError("the rules broke: password=hunter2 in a message")


def test_a_failed_run_records_failed_and_keeps_the_last_flags(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(*(squat(3) for _ in range(3))))
    first = run(workspace)
    flags_before = workspace.query("SELECT * FROM v_current_flags ORDER BY ALL")
    workspace.write("a1/two.csv", csv_text(*(squat(10, 11) for _ in range(3))))
    with pytest.raises(RuntimeError, match="the rules broke"):
        run(workspace, pipeline.Steps(flag=failing_flag))  # type: ignore[arg-type]
    runs = workspace.query(
        "SELECT run_id, status, error, flags_emitted FROM runs ORDER BY started_at"
    )
    assert [r[1] for r in runs] == ["succeeded", "failed"]
    (_, _, error, flags) = runs[1]
    assert error.startswith("RuntimeError: the rules broke") and flags is None
    assert "hunter2" not in error
    assert workspace.query("SELECT * FROM v_current_flags ORDER BY ALL") == flags_before
    assert {r[0] for r in workspace.query("SELECT DISTINCT run_id FROM v_current_flags")} == {
        first.run_id
    }
    # The file loaded before the rules failed is stored under the failed run, which exists.
    assert workspace.query(
        "SELECT count(*) FROM ingested_files WHERE run_id NOT IN (SELECT run_id FROM runs)"
    ) == [(0,)]
    # A failed run publishes nothing: the snapshot stays the last good state, and the failure
    # is in the runs journal, which `repflow status` merges (test_status_shows_a_failed_run).
    snapshot = workspace.query("SELECT status FROM runs ORDER BY started_at", db=workspace.snapshot)
    assert [s for (s,) in snapshot] == ["succeeded"]
    ends = [r for r in journal.read(workspace.journal) if r["event"] == "end"]
    assert [r["status"] for r in ends] == ["succeeded", "failed"]
    assert ends[1]["error"] == error
    # The next run evaluates the rules: the sets they saw last are not today's.
    assert run(workspace).rules_ran


def test_a_failed_publish_marks_the_run_failed(workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(squat(3)))

    def no_space(*_: object) -> int:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        run(workspace, pipeline.Steps(publish=no_space))
    ((status, error),) = workspace.query("SELECT status, error FROM runs")
    assert status == "failed" and "No space left on device" in error


def test_status_shows_a_failed_run(workspace: Workspace) -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("boom")

    workspace.write("a1/one.csv", csv_text(squat(3)))
    with pytest.raises(RuntimeError):
        run(workspace, pipeline.Steps(flag=broken))  # type: ignore[arg-type]
    env = {"COLUMNS": "400"}
    done = repflow("status", "--db", str(workspace.db), cwd=workspace.root, env=env)
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if "│ run " in line]
    assert "│ failed │" in row and "RuntimeError: boom" in row
