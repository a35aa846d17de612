"""Crash anywhere: SIGKILL a loading process at random moments, rerun, compare.

After the rerun the warehouse must equal an uninterrupted run's (ignoring run ids and
timestamps), and the analyst snapshot, whenever it exists, must be a whole state.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import discovery, pipeline
from tests.cases import live_processes, stored_sets_if_whole
from tests.conftest import ROOT, Workspace, csv_text, repflow

pytestmark = pytest.mark.slow
AS_OF = date(2026, 11, 30)
# Kill moments are stratified over the load: seed i of N falls in the i-th N-th of it.
SEEDS = range(12)
# The killed loaders store batches of these many files, by seed: file by file, a few files each
# (kills fall inside a batch and between two), and the whole inbox as one batch. The reference
# and the rerun store one batch: their results must not depend on it.
BATCH_FILES = (1, 3, 500)
STATE_QUERIES = {
    "sets": "SELECT * EXCLUDE (run_id) FROM sets ORDER BY ALL",
    "set_revisions": "SELECT * EXCLUDE (run_id, revised_at) FROM set_revisions ORDER BY ALL",
    "rejects": "SELECT * EXCLUDE (run_id) FROM rejects ORDER BY ALL",
    "ingested_files": (
        "SELECT path, sha256, status, error, rows_loaded, rows_revised, rows_unchanged, "
        "rows_rejected, rows_skipped FROM ingested_files ORDER BY ALL"
    ),
    "v_current_flags": "SELECT * EXCLUDE (run_id, evaluated_at) FROM v_current_flags ORDER BY ALL",
}


def build_inbox(inbox: Path) -> None:
    """Overlapping exports, edits, rejects and one broken file for three athletes."""
    for athlete in ("a1", "b2", "c3"):
        history: list[str] = []
        for week in range(5):
            day = 2 + week * 3
            rows = [
                f"2026-11-{day:02d}T07:{minute:02d}:00,Back Extension,{10 + week},0,kg,,working"
                for minute in range(3)
            ] + [
                f"2026-11-{day:02d}T07:{10 + s}:00,Squat,{5 + s % 2},{80 + week * 2.5},kg,8,working"
                for s in range(3)
            ]
            if week == 4:
                rows.append(f"2026-11-{day:02d}T07:20:00,Squat,ten,80,kg,,working")
            history += rows
            if week == 3:  # an edit of an earlier set
                history[0] = history[0].replace(",10,0,kg", ",11,0,kg")
            text = csv_text(*history)  # Strong-style: each export repeats the history
            (inbox / athlete).mkdir(parents=True, exist_ok=True)
            (inbox / athlete / f"export-{week}.csv").write_text(text)
    (inbox / "c3" / "broken.bin").write_bytes(b"\x00\x01garbage" * 64)


def state(db: Path) -> dict[str, list[Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in STATE_QUERIES.items()}
    finally:
        con.close()


def snapshot_is_whole(snapshot: Path) -> None:
    if snapshot.exists():
        stored_sets_if_whole(snapshot)


def final_versions(inbox: Path) -> dict[Path, tuple[bytes, str]]:
    """What a sync client leaves of two files, and how it writes them: b2's fourth export
    replaced (renamed over) by a newer one with one more set, c3's second cut to its first half
    of lines in place, as a download under way leaves it."""
    newer = inbox / "b2" / "export-3.csv"
    cut = inbox / "c3" / "export-1.csv"
    extra = b"2026-11-11T07:30:00,Squat,5,85,kg,8,working\n"
    lines = cut.read_bytes().splitlines(keepends=True)
    return {
        newer: (newer.read_bytes() + extra, "replace"),
        cut: (b"".join(lines[: len(lines) // 2]), "truncate"),
    }


def sync(path: Path, data: bytes, how: str) -> None:
    if how == "replace":
        fresh = path.with_name(path.name + ".sync")
        fresh.write_bytes(data)
        os.replace(fresh, path)
    else:
        path.write_bytes(data)  # the same file, cut and written again


# In a loader: each file of `final_versions` is changed by its sync client while it is read,
# between the last byte read and the checks after it.
SYNCING = """
from pathlib import Path
from sources import content
from tests.reliability.test_crash import final_versions, sync
finals = {str(path): final for path, final in final_versions(Path(INBOX)).items()}
read_all = content._read_all
def syncing(handle, *args):
    read_all(handle, *args)
    path = os.readlink(f"/proc/self/fd/{handle.fileno()}")
    if path in finals and Path(path).read_bytes() != finals[path][0]:
        sync(Path(path), *finals[path])
content._read_all = syncing
"""


def loader(workspace: Workspace, syncing: bool = False, batch_files: int = 500) -> list[str]:
    """A loading process that prints `ready` once imported, so that kills time the load alone;
    with `syncing`, two files change while they are read (SYNCING). It stores batches of
    `batch_files` files, each in one transaction."""
    changes = SYNCING.replace("INBOX", repr(str(workspace.inbox))) if syncing else ""
    script = textwrap.dedent(
        f"""
        import os
        from datetime import date
        from flows import discovery, pipeline
        from flows.config import load
        {textwrap.indent(changes, " " * 8).strip()}
        print("ready", flush=True)
        config = load({{"inbox": {str(workspace.inbox)!r}, "db": {str(workspace.db)!r},
                       "settle_s": 0, "batch_files": {batch_files}}})
        files, skipped = discovery.inbox_files(config)
        pipeline.execute(config, files, "run", date(2026, 11, 30), skipped=skipped)
        """
    )
    return [sys.executable, "-c", script]


def finish(workspace: Workspace) -> None:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", AS_OF, skipped=skipped)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[Any]], float]:
    workspace = Workspace(tmp_path_factory.mktemp("reference"))
    build_inbox(workspace.inbox)
    process = start_loader(workspace)
    started = time.monotonic()
    assert process.wait(timeout=300) == 0
    return state(workspace.db), time.monotonic() - started


def start_loader(
    workspace: Workspace, syncing: bool = False, batch_files: int = 500
) -> subprocess.Popen[bytes]:
    """The loader, returned once it has imported what it needs and is about to load."""
    process = subprocess.Popen(
        loader(workspace, syncing, batch_files),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stdout.readline() == b"ready\n"
    return process


@pytest.fixture(scope="module")
def synced_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """One uninterrupted run over the files as the sync clients leave them."""
    workspace = Workspace(tmp_path_factory.mktemp("synced-reference"))
    build_inbox(workspace.inbox)
    for path, final in final_versions(workspace.inbox).items():
        sync(path, *final)
    assert start_loader(workspace).wait(timeout=300) == 0
    return state(workspace.db)


# Kill moments for the runs whose files change while read; the last seed is not killed.
SYNC_SEEDS = range(4)


@pytest.mark.parametrize("seed", SYNC_SEEDS)
def test_files_changed_while_read_and_a_kill_then_rerun_equal_a_run_over_the_final_files(
    reference: tuple[dict[str, list[Any]], float],
    synced_reference: dict[str, list[Any]],
    tmp_path: Path,
    seed: int,
) -> None:
    """Two files change while the loader reads them (one replaced, one cut short), and the
    loader is killed at a seeded moment, or not at all. The files' clients then finish (the
    files are as they leave them), a run follows, and the warehouse equals one clean run over
    those final files, down to which file stored each set: nothing was recorded under a hash its
    rows did not come from, and a file left for later held back its athlete's later files."""
    _, duration = reference
    workspace = Workspace(tmp_path)
    build_inbox(workspace.inbox)
    finals = final_versions(workspace.inbox)
    process = start_loader(workspace, syncing=True, batch_files=BATCH_FILES[seed % 3])
    if seed < len(SYNC_SEEDS) - 1:
        time.sleep((seed + random.Random(seed).random()) / (len(SYNC_SEEDS) - 1) * duration)
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=300)
    snapshot_is_whole(workspace.snapshot)
    for path, final in finals.items():  # the clients finish
        if path.read_bytes() != final[0]:
            sync(path, *final)
    finish(workspace)
    for db in (workspace.db, workspace.snapshot):
        got = state(db)
        for name, rows in synced_reference.items():
            shown, wanted = set(map(repr, got[name])), set(map(repr, rows))
            extra, missing = shown - wanted, wanted - shown
            assert got[name] == rows, (db.name, name, sorted(extra), sorted(missing))


@pytest.mark.parametrize("seed", SEEDS)
def test_killed_load_then_rerun_equals_an_uninterrupted_run(
    reference: tuple[dict[str, list[Any]], float], tmp_path: Path, seed: int
) -> None:
    expected, duration = reference
    workspace = Workspace(tmp_path)
    build_inbox(workspace.inbox)
    delay = (seed + random.Random(seed).random()) / len(SEEDS) * duration
    process = start_loader(workspace, batch_files=BATCH_FILES[seed % 3])
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    snapshot_is_whole(workspace.snapshot)
    finish(workspace)
    snapshot_is_whole(workspace.snapshot)
    assert state(workspace.db) == expected
    assert state(workspace.snapshot) == expected


def no_dask_process_left(session: int) -> None:
    """Dask's workers (and their nannies' processes) watch their parent and end with it.
    Prefect's ephemeral API server does not (in either runner); it is stopped here by PID."""
    deadline = time.monotonic() + 30
    while left := [p for p in live_processes() if p.session == session]:
        if not any("spawn_main" in p.command for p in left):
            break
        assert time.monotonic() < deadline, left
        time.sleep(0.2)
    for process in left:
        os.kill(process.pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("seed", "runner"),
    # One whole-run kill per runner; the loader above takes the seeded kills.
    [(0, []), (0, ["--runner", "dask", "--dask-workers", "2"])],
    ids=["local-0", "dask-0"],
)
def test_killed_repflow_run_then_rerun_equals_an_uninterrupted_run(
    reference: tuple[dict[str, list[Any]], float],
    prefect_home: dict[str, str],
    tmp_path: Path,
    seed: int,
    runner: list[str],
) -> None:
    expected, _ = reference
    workspace = Workspace(tmp_path)
    build_inbox(workspace.inbox)
    args = ["--inbox", str(workspace.inbox), "--db", str(workspace.db), "--as-of", str(AS_OF)]
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("repflow")), "run", *args, *runner],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **prefect_home, "REPFLOW_SETTLE_S": "0"},
        start_new_session=True,
    )
    # Prefect's start-up (and the cluster's) takes most of a run; kill somewhere in the loading
    # that follows it.
    deadline = time.monotonic() + 120
    while not workspace.db.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(0.0, 1.5))
    process.send_signal(signal.SIGKILL)
    process.wait()
    no_dask_process_left(process.pid)
    snapshot_is_whole(workspace.snapshot)
    rerun = repflow("run", *args, *runner, cwd=tmp_path, env=prefect_home, timeout=300)
    assert rerun.returncode == 1  # the broken file still fails, nothing else
    assert state(workspace.db) == expected
