"""Content is what was read (issue 21, fault 1): each file is read once, its sha256 is of the
bytes parsed, and a file that changes between discovery and the end of its read is left for the
next run: not stored, not failed, listed. Nothing is ever recorded under a hash its rows did not
come from."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import sources
from flows import discovery, parsing, pipeline, runs
from flows import summary as report
from sources import content
from tests.conftest import Workspace, csv_text

SQUATS = csv_text(*(f"2026-11-02T07:0{n}:00,Squat,5,100,kg,," for n in range(3)))
BENCH = csv_text("2026-11-03T07:00:00,Bench Press,8,60,kg,,")


def run(
    workspace: Workspace, steps: pipeline.Steps | None = None, **settings: Any
) -> runs.RunSummary:
    config = workspace.config(**settings)
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(
        config, files, "run", date(2026, 11, 30), steps or pipeline.Steps(), skipped=skipped
    )


def replace_file(path: Path, text: str) -> None:
    """What a sync client does: write the new version beside the file, rename it over."""
    fresh = path.with_name(path.name + ".sync")
    fresh.write_text(text)
    os.replace(fresh, path)


def stored_by_content(workspace: Workspace) -> dict[str, list[str]]:
    """For each loaded file's sha256, the exercises of the sets stored from it."""
    rows = workspace.query(
        "SELECT f.sha256, s.exercise_raw FROM sets s JOIN ingested_files f USING (file_id) "
        "WHERE f.status = 'loaded' ORDER BY ALL"
    )
    found: dict[str, list[str]] = {}
    for sha256, exercise in rows:
        found.setdefault(sha256, []).append(exercise)
    return found


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_file_replaced_after_it_was_found_is_stored_under_the_hash_of_its_own_bytes(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync client swaps 3 squat sets for 1 bench set between the hashing and the parse.
    Whatever was parsed is stored under its own hash; the swapped-in file loads next; and the
    squats, dropped in again, load too (they were never recorded as loaded)."""
    path = workspace.write("a1/export.csv", SQUATS)
    parse = sources.read

    def swapped(*args: Any) -> sources.Parsed:
        if path.read_text() == SQUATS:
            replace_file(path, BENCH)
        return parse(*args)

    monkeypatch.setattr(sources, "read", swapped)
    first = run(workspace)
    monkeypatch.undo()
    assert first.exit_code == 0
    for sha, exercises in stored_by_content(workspace).items():
        assert (sha, exercises) in [
            (sha256(SQUATS), ["Squat"] * 3),
            (sha256(BENCH), ["Bench Press"]),
        ]
    run(workspace)  # the bench file, as it now is
    workspace.write("a1/again.csv", SQUATS)  # the first version, dropped in once more
    run(workspace)
    assert stored_by_content(workspace) == {
        sha256(SQUATS): ["Squat"] * 3,
        sha256(BENCH): ["Bench Press"],
    }


def test_a_file_truncated_after_it_was_hashed_is_never_loaded_under_the_full_hash(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large file (here: over a tiny hold limit) is hashed, then copied and parsed: cut short
    in between, it is deferred. The next run loads the cut file as what it is; the whole file,
    restored, loads its other sets."""
    monkeypatch.setattr(content, "HOLD_BYTES", 100)
    rows = [f"2026-11-{day:02d}T07:00:00,Squat,5,{60 + day},kg,," for day in range(1, 29)]
    whole = csv_text(*rows)
    cut = csv_text(*rows[:10])
    path = workspace.write("a1/big.csv", whole)
    read = parsing.read_found

    def truncating(found: discovery.Discovered, *args: Any) -> content.Content:
        got = read(found, *args)
        if got.data is None and got.copy is None:  # the hash pass: the client cuts it now
            path.write_text(cut)
        return got

    summary = run(workspace, pipeline.Steps(read=truncating))
    assert summary.exit_code == 0 and summary.status == "succeeded"
    assert summary.files == [] and [p for p, _ in summary.deferred] == ["a1/big.csv"]
    assert workspace.scalar("SELECT count(*) FROM ingested_files") == 0
    assert run(workspace).total("loaded") == 10  # the cut file, under its own hash
    path.write_text(whole)
    assert run(workspace).total("loaded") == 18  # restored: its other 18 sets
    assert stored_by_content(workspace).keys() == {sha256(cut), sha256(whole)}


def test_a_file_changed_while_it_is_read_is_deferred_and_listed(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size and the modification time are checked from discovery to the end of the read:
    a client that rewrites the file mid-read makes it wait for the next run (exit 0)."""
    monkeypatch.setattr(content, "CHUNK", 16)
    path = workspace.write("a1/export.csv", SQUATS)
    workspace.write("b2/other.csv", BENCH)
    read_all = content._read_all
    reads = 0

    def rewritten_mid_read(handle: Any, scan: content.Scan, *args: Any) -> None:
        nonlocal reads
        reads += 1
        if reads == 1:  # a1/export.csv, the first in file order: rewritten after 16 bytes
            scan.add(handle.read(16))
            path.write_text(SQUATS + "2026-11-02T07:09:00,Squat,5,100,kg,,\n")
        read_all(handle, scan, *args)

    monkeypatch.setattr(content, "_read_all", rewritten_mid_read)
    summary = run(workspace)
    assert summary.exit_code == 0 and summary.status == "succeeded"
    assert [info.path for info, _ in summary.files] == ["b2/other.csv"]  # the rest loads
    ((deferred, why),) = summary.deferred
    assert deferred == "a1/export.csv" and "while it was read" in why
    assert any("deferred   a1/export.csv" in line for line in report.lines(summary))
    assert run(workspace).total("loaded") == 4  # the next run reads it as it now is


def test_a_deferred_file_holds_back_its_athlete_s_later_files(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older export left for the next run must not be stored after a newer one (its values
    would overwrite the lifter's edits): the athlete's later files wait with it."""
    workspace.write("a1/1-old.csv", SQUATS)
    workspace.write("a1/2-new.csv", SQUATS.replace(",5,100,", ",6,100,"))
    workspace.write("b2/other.csv", BENCH)
    read = parsing.read_found

    def syncing(found: discovery.Discovered, *args: Any) -> content.Content:
        if found.relative == "a1/1-old.csv":
            raise content.ChangedWhileRead("was modified while it was read")
        return read(found, *args)

    summary = run(workspace, pipeline.Steps(read=syncing))
    assert summary.exit_code == 0
    assert [info.path for info, _ in summary.files] == ["b2/other.csv"]
    assert summary.deferred == [
        ("a1/1-old.csv", "was modified while it was read"),
        ("a1/2-new.csv", "waits for 'a1/1-old.csv'"),
    ]
    later = run(workspace)
    assert [info.path for info, _ in later.files] == ["a1/1-old.csv", "a1/2-new.csv"]
    assert later.total("revised") == 3  # the newer export's edits, over the older one's sets
    assert {
        reps for (reps,) in workspace.query("SELECT reps FROM sets WHERE athlete_id = 'a1'")
    } == {6}


def test_a_file_replaced_between_discovery_and_its_read_is_deferred(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", SQUATS)
    (found,), _ = discovery.inbox_files(workspace.config())
    replace_file(path, BENCH)  # after discovery: another inode at that path
    with pytest.raises(content.ChangedWhileRead, match="replaced since it was found"):
        parsing.read_found(found, 0.0)


def test_a_file_still_being_written_waits_for_the_next_run(workspace: Workspace) -> None:
    workspace.write("a1/export.csv", SQUATS)
    waiting = run(workspace, settle_s=60)
    assert waiting.exit_code == 0 and waiting.files == []
    ((path, why),) = waiting.deferred
    assert path == "a1/export.csv" and "still being written" in why
    later = run(workspace, settle_s=0)
    assert later.total("loaded") == 3


def test_a_settled_file_loads_with_the_default_settle_time(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", SQUATS)
    old = path.stat().st_mtime - 60
    os.utime(path, (old, old))
    assert workspace.config().settings.settle_s == 0  # the tests' own setting
    assert run(workspace, settle_s=2.0).total("loaded") == 3


def test_each_new_file_is_read_once_and_its_bytes_are_what_is_parsed(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write("a1/one.csv", SQUATS)
    run(workspace)
    workspace.write("a1/two.csv", BENCH)
    workspace.write("b2/three.csv", SQUATS)
    opened: list[str] = []
    real_open = os.open

    def counting(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(".csv"):
            opened.append(Path(path).name)
        return real_open(path, *args, **kwargs)

    handed: list[type] = []
    parse, parse_together = sources.read, sources.read_together

    def recording(source: Any, *args: Any) -> sources.Parsed:
        handed.append(type(source))
        return parse(source, *args)

    def recording_together(files: Any) -> list[Any]:
        handed.extend(type(source) for source, _ in files)
        return parse_together(files)

    monkeypatch.setattr(os, "open", counting)
    monkeypatch.setattr(sources, "read", recording)
    monkeypatch.setattr(sources, "read_together", recording_together)
    summary = run(workspace)
    assert summary.count("loaded") == 2 and summary.seen_before == 1
    assert sorted(opened) == ["one.csv", "three.csv", "two.csv"]  # once each, seen or new
    assert handed == [content.Held, content.Held]  # parsed from the bytes that were hashed


def test_reads_retry_what_can_pass_and_fail_at_once_on_what_cannot(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace.write("a1/busy.csv", SQUATS)
    workspace.write("a1/locked.csv", BENCH)
    (busy, locked), _ = discovery.inbox_files(workspace.config())
    monkeypatch.setattr(parsing, "IO_RETRY_DELAYS", (0.01, 0.01))
    read = content.read
    attempts: dict[str, int] = {}

    def flaky(path: Path, *args: Any, **kwargs: Any) -> content.Content:
        attempts[path.name] = attempts.get(path.name, 0) + 1
        if path.name == "busy.csv" and attempts[path.name] < 3:
            raise OSError(errno.EIO, "Input/output error")
        if path.name == "locked.csv":
            raise PermissionError(errno.EACCES, "Permission denied")
        return read(path, *args, **kwargs)

    monkeypatch.setattr(content, "read", flaky)
    assert parsing.read_found(busy, 0.0).sha256 == sha256(SQUATS)
    with pytest.raises(PermissionError):
        parsing.read_found(locked, 0.0)
    assert attempts == {"busy.csv": 3, "locked.csv": 1}


def test_an_unreadable_file_is_failed_and_replaced_by_its_next_record(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the run may not read fails with the reason (exit 1), and the others load; once it
    can be read, its record replaces the failure."""
    workspace.write("a1/locked.csv", SQUATS)
    workspace.write("b2/fine.csv", BENCH)
    read = content.read

    def denied(path: Path, *args: Any, **kwargs: Any) -> content.Content:
        if path.name == "locked.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read(path, *args, **kwargs)

    monkeypatch.setattr(content, "read", denied)
    summary = run(workspace)
    monkeypatch.undo()
    assert summary.exit_code == 1 and summary.status == "completed_with_failures"
    outcomes = {info.path: outcome for info, outcome in summary.files}
    assert outcomes["b2/fine.csv"].status == "loaded"
    assert outcomes["a1/locked.csv"].status == "failed"
    assert "Permission denied" in str(outcomes["a1/locked.csv"].error)
    assert run(workspace).count("loaded") == 1
    assert workspace.query("SELECT path, status FROM ingested_files ORDER BY path") == [
        ("a1/locked.csv", "loaded"),
        ("b2/fine.csv", "loaded"),
    ]
