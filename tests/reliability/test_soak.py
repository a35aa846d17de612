"""A year of nights (issue 17): nightly runs over a seeded gym (tests/reliability/gym.py).

Every night some athletes' apps export their whole history again, some athletes edit a past
set first, some files carry rows the contract rejects, some fail as a whole, some are junk,
and a few nights are killed with SIGKILL at a seeded step (tests/reliability/soak_night.py)
and run again. Most nights call `pipeline.execute`, as the flow's tasks do; two run the real
Prefect flow (`repflow run`). At the end the warehouse must equal one clean run over every
athlete's last export, hold each edit and each bad row exactly once, and record every run
that was not killed.

`make test` plays a short soak (15 nights of 12 athletes); `make soak` plays the year.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import discovery, pipeline
from sources import content
from tests.cases import stored_sets_if_whole
from tests.conftest import ROOT, Workspace, repflow
from tests.reliability.gym import Gym, Night

pytestmark = pytest.mark.slow
START = date(2025, 12, 1)
IGNORED = "file_id, source_line, run_id, line_hash, line_check"
SETS = f"SELECT * EXCLUDE ({IGNORED}) FROM sets ORDER BY ALL"
FLAGS = "SELECT * EXCLUDE (run_id, evaluated_at) FROM v_current_flags ORDER BY ALL"
NATURAL_KEY = "source_format, athlete_id, performed_at, exercise_key, set_index"
# What every soak must have played, besides kills at four different points.
EVENTS = {"exports", "edits", "exports with bad rows", "copies of an old export"}
EVENTS |= {"broken files", "junk files", "files changed while read", "damaged databases"}


def run_ids(workspace: Workspace) -> set[str]:
    if not workspace.db.exists():
        return set()
    return {run_id for (run_id,) in workspace.query("SELECT run_id FROM runs")}


def killed_night(workspace: Workspace, night: Night) -> str:
    """Run the night in a process that kills itself at the night's point; its run id."""
    kill = night.kill
    assert kill is not None
    id_file = workspace.root / "killed-run-id"
    id_file.unlink(missing_ok=True)
    when = "after" if kill.after else "before"
    args = [str(workspace.inbox), str(workspace.db), str(night.day), kill.step, str(kill.at), when]
    process = subprocess.run(
        [sys.executable, "-m", "tests.reliability.soak_night", *args, str(id_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == -9, f"{night.day} {kill}: {process.returncode} {process.stderr}"
    return id_file.read_text()


def prefect_night(workspace: Workspace, night: Night, env: dict[str, str]) -> str:
    """Run the night through the real flow (`repflow run`); its run id."""
    before = run_ids(workspace)
    args = ["--inbox", str(workspace.inbox), "--db", str(workspace.db), "--as-of", str(night.day)]
    result = repflow("run", *args, cwd=workspace.root, env=env, timeout=300)
    assert result.returncode == (1 if night.broken else 0), result.stdout + result.stderr
    (run_id,) = run_ids(workspace) - before
    return run_id


@contextmanager
def syncing(changes: list[tuple[Path, str]]) -> Iterator[None]:
    """While the block runs, each file of `changes` is changed by its sync client as it is read
    (between its last byte read and the checks after it): replaced by a rename, or cut short
    in place. Afterwards each client writes its file back whole."""
    whole = {str(path): path.read_bytes() for path, _ in changes}
    how = {str(path): mode for path, mode in changes}
    read_all = content._read_all

    def changing(handle: Any, *args: Any) -> None:
        read_all(handle, *args)
        path = os.readlink(f"/proc/self/fd/{handle.fileno()}")
        if path in how and Path(path).read_bytes() == whole[path]:
            data = whole[path]
            sync(Path(path), data[: len(data) // 2] if how[path] == "truncate" else data + b"\n")

    content._read_all = changing
    try:
        yield
    finally:
        content._read_all = read_all
        for path, data in whole.items():
            sync(Path(path), data)


def sync(path: Path, data: bytes) -> None:
    """Write a file as a sync client does: beside it, then renamed over it."""
    fresh = path.with_name(f".{path.name}.sync")
    fresh.write_bytes(data)
    os.replace(fresh, path)


def damage(db: Path) -> None:
    """Overwrite the start of a block of `sets` with garbage, as a failing disk would."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        (block,) = con.execute(
            "SELECT max(block_id) FROM pragma_storage_info('sets') WHERE block_id >= 0"
        ).fetchone()
        (size,) = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    with db.open("r+b") as handle:  # blocks follow three 4 KiB headers
        handle.seek(3 * 4096 + block * size + 64)
        handle.write(b"\xff" * 64)


def damaged_night(workspace: Workspace, night: Night) -> None:
    """The working database is damaged before the night: the run fails, the snapshot stays
    whole and unchanged, and the operator restores the working database from it (the
    snapshot holds the last night's end, as every night changes the flags)."""
    snapshot = workspace.snapshot.read_bytes()
    damage(workspace.db)
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    with pytest.raises(Exception, match=r"(?i)corrupt|checksum|not replaced"):
        pipeline.execute(config, files, "run", night.day, skipped=skipped)
    assert workspace.snapshot.read_bytes() == snapshot
    stored_sets_if_whole(workspace.snapshot)
    shutil.copyfile(workspace.snapshot, workspace.db)
    workspace.db.with_name(workspace.db.name + ".wal").unlink(missing_ok=True)


def plain_night(workspace: Workspace, night: Night, whole: bool) -> str:
    """Run the night through the pipeline's functions, as the flow's tasks call them. A
    night that was not killed first loads exactly what the gym dropped."""
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    with syncing(night.syncing):
        summary = pipeline.execute(config, files, "run", night.day, skipped=skipped)
    assert summary.error is None and summary.status == night.status, (night, summary.files)
    deferred = [path for path, _ in summary.deferred]
    assert deferred == [str(path.relative_to(workspace.inbox)) for path, _ in night.syncing]
    # Junk is listed as ignored, never read; nothing else is skipped.
    assert sorted(summary.skipped_paths) == sorted(repr(path) for path in night.junk)
    if whole:
        stored = summary.count("loaded") + summary.count("failed")
        counted = (stored, summary.count("failed"), summary.total("revised"))
        assert counted == (night.new_files, night.broken, night.edits), night
        assert summary.total("rejected") == night.bad_rows, night
    return summary.run_id


def clean_run(root: Path, gym: Gym, as_of: date) -> Workspace:
    """One run, in a fresh warehouse, over the last export of every athlete."""
    clean = Workspace(root)
    for athlete in gym.athletes:
        if athlete.last_export:
            (clean.inbox / athlete.athlete_id).mkdir(parents=True)
            (clean.inbox / athlete.athlete_id / "last.csv").write_bytes(athlete.last_export)
    config = clean.config()
    files, skipped = discovery.inbox_files(config)
    assert pipeline.execute(config, files, "run", as_of, skipped=skipped).status == "succeeded"
    return clean


def test_a_year_of_nights(
    request: pytest.FixtureRequest,
    workspace: Workspace,
    prefect_home: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    nights = int(request.config.getoption("--soak-nights"))
    athletes = int(request.config.getoption("--soak-athletes"))
    gym = Gym(int(request.config.getoption("--soak-seed")), athletes, nights, START)
    started = time.monotonic()
    expected_runs: dict[str, str] = {}  # run id: status
    killed: list[tuple[Night, str]] = []
    for _ in range(nights):
        night = gym.night(workspace.inbox)
        if night.damaged:
            damaged_night(workspace, night)
        if night.kill is not None:
            run_id = killed_night(workspace, night)
            killed.append((night, run_id))
            if night.kill.step == "publish":  # its run was recorded before it died
                expected_runs[run_id] = night.status
        if night.prefect:
            expected_runs[prefect_night(workspace, night, prefect_home)] = night.status
        else:
            expected_runs[plain_night(workspace, night, night.kill is None)] = night.status
        stored_sets_if_whole(workspace.snapshot)  # the snapshot is never damaged
    last = gym.day
    elapsed = time.monotonic() - started
    played = set(gym.counts)
    kills = played - EVENTS
    assert played >= EVENTS and len(kills) >= 4, f"the seed played too little: {played}"

    # One clean run over the last exports: the same sets and the same current flags.
    clean = clean_run(tmp_path_factory.mktemp("clean"), gym, last)
    assert workspace.query(SETS) == clean.query(SETS)
    assert workspace.query(FLAGS) == clean.query(FLAGS)
    assert workspace.query(FLAGS), "no flags at all"
    # The snapshot is the last night's state.
    assert workspace.query(SETS, db=workspace.snapshot) == clean.query(SETS)

    # No set twice, none lost.
    twice = workspace.query(
        f"SELECT {NATURAL_KEY}, count(*) FROM sets GROUP BY ALL HAVING count(*) > 1"
    )
    assert twice == []
    stored = {tuple(row) for row in workspace.query(f"SELECT {NATURAL_KEY} FROM sets")}
    keys = gym.keys()
    assert len(stored) == len(keys) and stored == keys

    # Each edit is one revision: the old values there, the new ones in `sets`.
    revisions = workspace.query(
        f"SELECT {', '.join(f'r.{c}' for c in NATURAL_KEY.split(', '))}, r.reps, r.load_kg, "
        f"s.reps, s.load_kg FROM set_revisions r JOIN sets s USING ({NATURAL_KEY})"
    )
    assert workspace.scalar("SELECT count(*) FROM set_revisions") == len(revisions)
    got = {
        tuple(key): ((old, round(old_kg, 6)), (new, round(new_kg, 6)))
        for *key, old, old_kg, new, new_kg in revisions
    }
    assert len(got) == len(revisions) and got == gym.edits

    # The bad rows of every distinct file, once each.
    rejected = workspace.query(
        "SELECT f.sha256, count(*) FROM rejects r JOIN "
        "(SELECT DISTINCT file_id, sha256 FROM ingested_files) f USING (file_id) GROUP BY ALL"
    )
    assert dict(rejected) == gym.bad_rows
    assert workspace.scalar(
        "SELECT count(*) FROM (SELECT DISTINCT file_id, source_line FROM rejects)"
    ) == sum(gym.bad_rows.values())

    # Every run, the killed ones aside (a run killed in its publish had recorded itself).
    runs = dict(workspace.query("SELECT run_id, status FROM runs"))
    assert runs == expected_runs
    unrecorded = {run_id for night, run_id in killed if night.kill and night.kill.step != "publish"}
    assert not unrecorded & set(runs)

    figures = {
        "nights": nights,
        "athletes": athletes,
        "seconds": round(elapsed),
        "runs": len(runs),
        "files": workspace.scalar("SELECT count(DISTINCT file_id) FROM ingested_files"),
        "sets": len(stored),
        "revisions": len(revisions),
        "rejects": sum(gym.bad_rows.values()),
        "flags": len(workspace.query(FLAGS)),
        **gym.counts,
    }
    print("\nsoak:", ", ".join(f"{name} {value}" for name, value in figures.items()))
