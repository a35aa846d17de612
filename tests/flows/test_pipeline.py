"""The pipeline end to end without Prefect: idempotence, quarantine, failures, discovery."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from flows.config import Config
from tests.conftest import Workspace, csv_text
from warehouse.db import WarehouseLocked
from warehouse.lock import run_lock

AS_OF = date(2026, 11, 30)
WEEK_1 = [
    "2026-11-16T07:00:00,Back Extension,10,0,kg,,working",
    "2026-11-16T07:03:00,Back Extension,10,0,kg,,working",
    "2026-11-16T07:10:00,Bench Press (Barbell),8,60,kg,8,working",
]
WEEK_2 = [
    "2026-11-19T07:00:00,Back Extension,11,0,kg,,working",
    "2026-11-19T07:03:00,Back Extension,11,0,kg,,working",
]


def run(config: Config, as_of: date | None = AS_OF) -> runs.RunSummary:
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", as_of, skipped=skipped)


def test_second_run_over_the_same_inbox_loads_nothing(workspace: Workspace) -> None:
    workspace.write("a1/export.csv", csv_text(*WEEK_1))
    config = workspace.config()
    first = run(config)
    assert (first.count("loaded"), first.total("loaded")) == (1, 3)
    second = run(config)
    assert second.total("loaded") == 0 and second.count("loaded") == 0
    assert second.exit_code == 0
    assert workspace.scalar("SELECT count(*) FROM sets") == 3
    assert workspace.query(
        "SELECT files_seen, files_loaded, files_duplicate FROM runs ORDER BY finished_at"
    ) == [(1, 1, 0), (1, 0, 1)]


def test_renamed_copy_is_a_duplicate_by_content(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", csv_text(*WEEK_1))
    config = workspace.config()
    run(config)
    shutil.copy(path, workspace.inbox / "a1" / "export (1).csv")
    summary = run(config)
    assert [o.status for _, o in summary.files] == ["duplicate"]
    assert workspace.query("SELECT path, status FROM ingested_files ORDER BY path") == [
        ("a1/export (1).csv", "duplicate"),
        ("a1/export.csv", "loaded"),
    ]
    assert workspace.scalar("SELECT count(*) FROM sets") == 3


def test_same_bytes_under_two_athletes_are_two_files(workspace: Workspace) -> None:
    workspace.write("a1/export.csv", csv_text(*WEEK_1))
    workspace.write("b2/export.csv", csv_text(*WEEK_1))
    summary = run(workspace.config())
    assert [o.status for _, o in summary.files] == ["loaded", "loaded"]
    assert workspace.query("SELECT athlete_id, count(*) FROM sets GROUP BY ALL ORDER BY 1") == [
        ("a1", 3),
        ("b2", 3),
    ]


def test_overlapping_export_adds_only_new_rows(workspace: Workspace) -> None:
    workspace.write("a1/2026-11-17.csv", csv_text(*WEEK_1))
    config = workspace.config()
    run(config)
    workspace.write("a1/2026-11-20.csv", csv_text(*WEEK_1, *WEEK_2))
    summary = run(config)
    ((_, outcome),) = summary.files
    assert (outcome.loaded, outcome.unchanged, outcome.revised) == (2, 3, 0)
    assert workspace.scalar("SELECT count(*) FROM sets") == 5


def test_changed_value_replaces_the_row_and_keeps_a_revision(workspace: Workspace) -> None:
    workspace.write("a1/old.csv", csv_text(*WEEK_1))
    config = workspace.config()
    run(config)
    edited = [WEEK_1[0], WEEK_1[1], WEEK_1[2].replace(",8,60,kg,8,", ",8,62.5,kg,9,")]
    workspace.write("a1/new.csv", csv_text(*edited))
    summary = run(config)
    ((info, outcome),) = summary.files
    assert (outcome.loaded, outcome.revised, outcome.unchanged) == (0, 1, 2)
    assert workspace.query(
        "SELECT load_kg, rpe, file_id FROM sets WHERE exercise_key = 'bench press (barbell)'"
    ) == [(62.5, 9.0, info.file_id)]
    assert workspace.query("SELECT load_kg, rpe, revised_by_file_id FROM set_revisions") == [
        (60.0, 8.0, info.file_id)
    ]


def test_rejected_rows_keep_line_raw_text_and_every_error(workspace: Workspace) -> None:
    workspace.write(
        "a1/export.csv",
        csv_text(
            WEEK_1[0],
            "2026-11-16T07:03:00,Back Extension,ten,-5,kg,11,working",
            WEEK_1[2],
        ),
    )
    summary = run(workspace.config())
    assert summary.exit_code == 0  # rejected rows do not fail the file
    assert workspace.scalar("SELECT count(*) FROM sets") == 2
    [(line, raw, errors)] = workspace.query("SELECT source_line, raw, errors FROM rejects")
    assert line == 3
    assert raw == "2026-11-16T07:03:00,Back Extension,ten,-5,kg,11,working"
    found = {(e["field"], e["value"], e["rule"]) for e in json.loads(errors)}
    assert found == {
        ("reps", "ten", "int_text"),
        ("load", "-5", "greater_than_equal"),
        ("rpe", "11", "less_than_equal"),
    }
    assert all(e["message"] for e in json.loads(errors))


def test_same_key_twice_in_one_file_rejects_the_second(workspace: Workspace) -> None:
    row = "2026-11-16T07:00:00,Back Extension,10,0,kg,,working"
    workspace.write(
        "a1/export.csv",
        "performed_at,exercise,reps,load,unit,rpe,set_type,set_index\n"
        f"{row},1\n{row.replace(',10,', ',12,')},1\n",
    )
    run(workspace.config())
    assert workspace.query("SELECT reps FROM sets") == [(10,)]
    [(line, errors)] = workspace.query("SELECT source_line, errors FROM rejects")
    assert line == 3 and json.loads(errors)[0]["rule"] == "duplicate_key_in_file"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary\xff" * 10, "unrecognised format"),
        (b"date,lift,count\n2026-11-16,Squat,5\n", "unrecognised format"),
    ],
    ids=["empty", "binary", "no-usable-header"],
)
def test_unreadable_file_fails_alone(workspace: Workspace, content: bytes, reason: str) -> None:
    workspace.write("a1/good.csv", csv_text(*WEEK_1))
    (workspace.inbox / "a1" / "bad.bin").write_bytes(content)
    summary = run(workspace.config())
    assert summary.exit_code == 1 and summary.status == "completed_with_failures"
    statuses = dict(workspace.query("SELECT path, status FROM ingested_files"))
    assert statuses == {"a1/bad.bin": "failed", "a1/good.csv": "loaded"}
    error = workspace.scalar("SELECT error FROM ingested_files WHERE status = 'failed'")
    assert reason in error
    assert workspace.scalar("SELECT count(*) FROM sets") == 3
    assert workspace.scalar("SELECT status FROM runs") == "completed_with_failures"


def test_unrecognised_format_names_the_first_bytes_and_known_formats(workspace: Workspace) -> None:
    (workspace.inbox / "a1").mkdir()
    (workspace.inbox / "a1" / "x.dat").write_bytes(b"\x89PNG\r\n\x1a\n....")
    run(workspace.config())
    error = workspace.scalar("SELECT error FROM ingested_files")
    assert "89 50 4e 47" in error and "canonical_csv" in error


def test_file_in_the_inbox_root_needs_athletes(workspace: Workspace) -> None:
    workspace.write("loose.csv", csv_text(*WEEK_1))
    named = "athlete_id," + csv_text(*[f"c3,{row}" for row in WEEK_1]).replace("\n", "\n", 1)
    workspace.write("named.csv", named)
    summary = run(workspace.config())
    outcomes = {info.path: outcome for info, outcome in summary.files}
    assert outcomes["loose.csv"].status == "failed"
    assert "no athlete folder" in str(outcomes["loose.csv"].error)
    assert outcomes["named.csv"].status == "loaded"
    assert workspace.query("SELECT DISTINCT athlete_id FROM sets") == [("c3",)]


def test_discovery_skips_links_special_files_and_bad_folder_names(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.write("a1/good.csv", csv_text(*WEEK_1))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(csv_text(*WEEK_2))
    (workspace.inbox / "a1" / "link.csv").symlink_to(outside / "secret.csv")
    (workspace.inbox / "a1" / "linked-dir").symlink_to(outside)
    (workspace.inbox / "b2").symlink_to(outside)
    os.mkfifo(workspace.inbox / "a1" / "pipe.csv")
    bad = workspace.inbox / "bad name"
    bad.mkdir()
    (bad / "x.csv").write_text(csv_text(*WEEK_2))
    newline = workspace.inbox / "evil\nname"
    newline.mkdir()
    files, skipped = discovery.discover(workspace.inbox)
    assert [f.relative for f in files] == ["a1/good.csv"]
    assert len(skipped) == 6
    assert any("symbolic link" in s and "link.csv" in s for s in skipped)
    assert any("not a regular file" in s and "pipe.csv" in s for s in skipped)
    assert any("not a valid athlete_id" in s and "bad name" in s for s in skipped)


def test_files_load_in_a_fixed_order(workspace: Workspace) -> None:
    for relative in ["b2/z.csv", "a1/sub/b.csv", "a1/a.csv", "root.csv"]:
        workspace.write(relative, csv_text(*WEEK_1))
    files, _ = discovery.discover(workspace.inbox)
    assert [f.relative for f in files] == ["root.csv", "a1/a.csv", "a1/sub/b.csv", "b2/z.csv"]


def test_a_run_waits_for_the_lock_then_says_who_holds_it(workspace: Workspace) -> None:
    import subprocess
    import sys

    workspace.write("a1/export.csv", csv_text(*WEEK_1))
    config = workspace.config(lock_timeout_s=0.3)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\nfrom warehouse.lock import run_lock\n"
            f"with run_lock(Path({str(config.settings.db)!r})):\n"
            "    print('held', flush=True)\n    sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLocked, match=f"PID {holder.pid}"):
            run(config)
    finally:
        holder.kill()
        holder.wait()
    assert run(config).total("loaded") == 3  # the dead holder's lock is gone


def test_the_lock_is_reentrant_within_a_process(workspace: Workspace) -> None:
    workspace.write("a1/export.csv", csv_text(*WEEK_1))
    config = workspace.config(lock_timeout_s=0.3)
    with run_lock(config.settings.db):  # as `repflow run` holds it around the flow
        assert run(config).total("loaded") == 3


def test_exercise_catalog_changes_remap_stored_sets(workspace: Workspace, tmp_path: Path) -> None:
    workspace.write("a1/export.csv", csv_text(*WEEK_1))
    run(workspace.config())
    assert (
        workspace.scalar(
            "SELECT exercise_id FROM sets WHERE exercise_raw = 'Bench Press (Barbell)'"
        )
        == "bench_press"
    )
    custom = tmp_path / "config"
    shutil.copytree(Path(__file__).parents[2] / "config", custom)
    # A name the config gives another exercise leaves the one the catalog gave it to.
    (custom / "exercises.toml").write_text(
        '[exercises.barbell_bench]\nname = "Barbell Bench"\naliases = ["Bench Press (Barbell)"]\n'
    )
    run(workspace.config(config=custom))
    assert (
        workspace.scalar(
            "SELECT exercise_id FROM sets WHERE exercise_raw = 'Bench Press (Barbell)'"
        )
        == "barbell_bench"
    )


def test_unknown_exercise_gets_a_slug_and_is_listed_as_unmapped(workspace: Workspace) -> None:
    workspace.write("a1/export.csv", csv_text("2026-11-16T07:00:00,Zercher  Tire Drag!,5,60,kg,,"))
    run(workspace.config())
    assert workspace.query("SELECT exercise_id, exercise_key FROM sets") == [
        ("zercher_tire_drag", "zercher tire drag!")
    ]
    assert workspace.query(
        "SELECT exercise_key, sets FROM v_unmapped_exercises", db=workspace.snapshot
    ) == [("zercher tire drag!", 1)]


def test_same_inbox_builds_the_same_warehouse(tmp_path: Path, workspace: Workspace) -> None:
    workspace.write("a1/one.csv", csv_text(*WEEK_1, "2026-11-16T07:30:00,Row,x,0,kg,,"))
    workspace.write("b2/two.csv", csv_text(*WEEK_2))
    other = Workspace(tmp_path / "other")
    shutil.copytree(workspace.inbox, other.inbox)
    run(workspace.config())
    run(other.config())
    for table in ("sets", "rejects", "ingested_files", "set_revisions"):
        ignore = {"run_id", "ingested_at"}
        columns = [
            row[0]
            for row in workspace.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [table],
            )
            if row[0] not in ignore
        ]
        sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL"
        assert workspace.query(sql) == other.query(sql), table
    flags = "SELECT * EXCLUDE (run_id, evaluated_at) FROM flags ORDER BY ALL"
    assert workspace.query(flags) == other.query(flags)
