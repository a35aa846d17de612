"""Faults around the warehouse: another writer, a full disk, a read-only folder, a damaged
database, a file that vanishes. Each ends in one line and exit 1, with the previous warehouse
and snapshot intact, and every run listed by `repflow status`."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from flows import discovery, parsing, pipeline
from sources import content
from tests.cases import stored_sets_if_whole
from tests.conftest import Workspace, csv_text, repflow
from warehouse import journal, publish
from warehouse.holders import holder
from warehouse.lock import run_lock

ROWS = [f"2026-11-{day:02d}T07:00:00,Squat,5,{60 + day},kg,," for day in range(1, 29)]


def test_a_process_holding_the_database_blocks_for_a_bounded_time(workspace: Workspace) -> None:
    path = workspace.write("a1/x.csv", csv_text(*ROWS))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys\ncon = duckdb.connect({str(workspace.db)!r})\n"
            "print('ready', flush=True)\nsys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        result = repflow(
            "ingest", str(path), cwd=workspace.root, env={"REPFLOW_LOCK_TIMEOUT_S": "0.5"}
        )
        assert result.returncode == 1
        assert f"is held by process {holder.pid}" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        holder.kill()
        holder.wait()
    assert repflow("ingest", str(path), cwd=workspace.root).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 MiB tmpfs: a real full disk, where the machine lets the test mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small disk here: {mounted.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def one_line(stderr: str) -> str:
    """The one line a failed command prints: `repflow: ...`, never a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("repflow: "), stderr
    return lines[0]


def status_rows(db: Path, cwd: Path) -> list[str]:
    """The first line of each row of `repflow status`'s recent runs (rich wraps long cells)."""
    done = repflow("status", "--db", str(db), cwd=cwd)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith("│ 20")]


def test_disk_full_is_a_clear_error_and_the_warehouse_survives(
    workspace: Workspace, small_disk: Path
) -> None:
    db = small_disk / "warehouse.duckdb"
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), "--db", str(db), cwd=workspace.root).returncode == 0
    big = workspace.root / "big.csv"
    rows = [
        f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00,Lift {n},5,60,kg,,"
        for n in range(250)
        for month in range(1, 13)
        for day in range(1, 29)
        for hour in (6, 18)
    ]
    big.write_text(csv_text(*rows))
    args = ["--athlete", "a1", "--db", str(db), "-q"]
    result = repflow("ingest", str(big), *args, cwd=workspace.root)
    assert result.returncode == 1, result.stdout
    line = one_line(result.stderr)
    assert "space" in line.lower() or "could not be written" in line
    assert not (small_disk / "analytics.duckdb.tmp").exists()
    # Whatever committed is whole: every stored set belongs to a file recorded as loaded.
    for database in (db, small_disk / "analytics.duckdb"):
        assert stored_sets_if_whole(database) >= 5


def test_read_only_folder_is_a_clear_error(workspace: Workspace, small_disk: Path) -> None:
    db = small_disk / "warehouse.duckdb"
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), "--db", str(db), cwd=workspace.root).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    second = workspace.write("a1/second.csv", csv_text(*ROWS[5:]))
    result = repflow("ingest", str(second), "--db", str(db), cwd=workspace.root)
    assert result.returncode == 1
    one_line(result.stderr)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM sets").fetchone() == (5,)
    finally:
        con.close()


def test_the_journal_takes_a_run_s_end_on_a_full_disk(small_disk: Path) -> None:
    """The journal keeps room for a run's end: a run that filled the disk still records it."""
    path = small_disk / "warehouse.duckdb.runs.jsonl"
    with journal.Journal(path) as log:
        log.write("start", run_id="r1", command="run")
        with path.open("ab") as handle:  # end on a page: the next record needs a new one
            handle.write(b"#" * (4095 - path.stat().st_size % 4096) + b"\n")
        filler = small_disk / "filler"
        with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
            while True:
                handle.write(bytes(1 << 16))
        log.write("end", run_id="r1", status="failed", error="No space left on device")
    assert [r["event"] for r in journal.read(path)] == ["start", "end"]


@pytest.mark.slow
def test_a_run_that_fills_the_disk_is_one_line_and_listed_by_status(
    workspace: Workspace, small_disk: Path, prefect_home: dict[str, str]
) -> None:
    """The file loads, then the rules fill the disk: the run cannot record itself in `runs`,
    so the journal keeps it, and the sets it stored are under a run that status lists."""
    db = small_disk / "warehouse.duckdb"
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), "--db", str(db), cwd=workspace.root).returncode == 0
    rows = [
        f"2026-{month:02d}-{day:02d}T{hour:02d}:00:00,Lift {n},5,60,kg,,"
        for n in range(250)
        for month in range(1, 13)
        for day in range(1, 29)
        for hour in (6, 18)
    ]
    workspace.write("a1/big.csv", csv_text(*rows))
    args = ["--inbox", str(workspace.inbox), "--db", str(db), "--as-of", "2026-12-31", "-q"]
    result = repflow("run", *args, cwd=workspace.root, env=prefect_home, timeout=300)
    assert result.returncode == 1, result.stdout
    assert "space" in one_line(result.stderr).lower()
    listed = status_rows(db, workspace.root)
    failed = [row for row in listed if " run " in row and " failed " in row]
    assert len(failed) == 1, listed
    (end,) = [
        r
        for r in journal.read(journal.journal_path(db, db))
        if r["event"] == "end" and r.get("command") == "run"
    ]
    assert end["status"] == "failed" and "space" in end["error"].lower()
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored_by = {
            run_id for (run_id,) in con.execute("SELECT DISTINCT run_id FROM sets").fetchall()
        }
        recorded = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    finally:
        con.close()
    # The run stored its sets before the disk filled; its own row in `runs` says failed, or the
    # disk refused it (where the disk fills first depends on the database's size), and then the
    # journal alone has it.
    assert end["run_id"] in stored_by
    assert recorded.get(end["run_id"], "failed") == "failed"
    # Every run that stored sets is one that status shows (its id, cut to the table's width).
    shown = {row.split()[1].rstrip("…") for row in listed}
    assert all(any(run_id.startswith(s) for s in shown) for run_id in stored_by), shown


def truncate(path: Path, fraction: float) -> None:
    """Cut a database file short, at a block boundary, as a failing disk or a bad copy would."""
    with path.open("r+b") as handle:
        handle.truncate(int(path.stat().st_size * fraction) // 4096 * 4096)


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.5, 0.75])
def test_a_damaged_warehouse_is_one_line_and_never_replaces_the_snapshot(
    workspace: Workspace, prefect_home: dict[str, str], fraction: float
) -> None:
    """Cut at a half, DuckDB cannot open the file; at three quarters it opens it and fails on
    the way, where the old code went on to publish the damaged file over the snapshot."""
    first = workspace.write("a1/first.csv", csv_text(*ROWS[:5]))
    assert repflow("ingest", str(first), cwd=workspace.root).returncode == 0
    good = workspace.snapshot.read_bytes()
    truncate(workspace.db, fraction)
    workspace.write("a1/second.csv", csv_text(*ROWS[5:]))
    args = ["--inbox", str(workspace.inbox), "--as-of", "2026-11-30", "-q"]
    result = repflow("run", *args, cwd=workspace.root, env=prefect_home, timeout=300)
    assert result.returncode == 1, result.stdout
    assert "IO Error" in one_line(result.stderr)
    assert workspace.snapshot.read_bytes() == good
    publish.check(workspace.snapshot)  # reads back whole
    (failed,) = [row for row in status_rows(workspace.db, workspace.root) if " run " in row]
    assert " failed " in failed
    (end,) = [
        r
        for r in journal.read(workspace.journal)
        if r["event"] == "end" and r.get("command") == "run"
    ]
    assert "IO Error" in end["error"]


def test_a_file_that_is_not_duckdb_is_one_line(workspace: Workspace) -> None:
    workspace.db.write_text("not a database\n")
    path = workspace.write("a1/x.csv", csv_text(*ROWS[:2]))
    result = repflow("ingest", str(path), cwd=workspace.root)
    assert result.returncode == 1
    assert "not a valid DuckDB database" in one_line(result.stderr)
    assert not workspace.snapshot.exists()


def test_a_damaged_block_is_found_before_the_snapshot_is_replaced(workspace: Workspace) -> None:
    """A run may never read the block a failing disk damaged, and succeed; the copy it would
    publish is read back whole first, and refused. Here the damage is in `rejects`, which a
    file without bad rows never reads."""
    workspace.ingest("a1/x.csv", csv_text(*ROWS[:5], "2026-11-30T07:00:00,Squat,ten,60,kg,,"))
    good = workspace.snapshot.read_bytes()
    con = duckdb.connect(str(workspace.db))
    try:
        (blocks,) = con.execute(
            "SELECT list(DISTINCT block_id) FROM pragma_storage_info('rejects') WHERE block_id >= 0"
        ).fetchone()
        (size,) = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()
    finally:
        con.close()
    with workspace.db.open("r+b") as handle:  # blocks follow three 4 KiB headers
        handle.seek(3 * 4096 + blocks[0] * size + 64)
        handle.write(b"\xff" * 64)
    workspace.write("a1/y.csv", csv_text(*ROWS[10:12]))
    with pytest.raises(publish.DamagedCopy, match="snapshot was not replaced"):
        workspace.ingest("a1/y.csv")
    assert workspace.snapshot.read_bytes() == good
    assert not workspace.snapshot.with_name("analytics.duckdb.tmp").exists()


def test_the_run_lock_is_keyed_on_the_real_file(workspace: Workspace) -> None:
    """Two paths to one warehouse (a symbolic link) take one lock: two runs never write it at
    once."""
    real = workspace.root / "data" / "warehouse.duckdb"
    real.parent.mkdir()
    link = workspace.root / "link.duckdb"
    link.symlink_to(real)
    path = workspace.write("a1/x.csv", csv_text(*ROWS[:2]))
    env = {"REPFLOW_LOCK_TIMEOUT_S": "0.5"}
    with run_lock(real):
        result = repflow("ingest", str(path), "--db", str(link), cwd=workspace.root, env=env)
    assert result.returncode == 1
    assert "another repflow run" in one_line(result.stderr)
    assert repflow("ingest", str(path), "--db", str(link), cwd=workspace.root).returncode == 0
    # The snapshot is named after the real file, beside it: one snapshot for one warehouse.
    assert (real.parent / "analytics.duckdb").exists()
    assert not (workspace.root / "analytics.duckdb").exists()


def test_two_warehouses_in_one_folder_have_a_snapshot_each(workspace: Workspace) -> None:
    first = workspace.write("a1/x.csv", csv_text(*ROWS[:2]))
    second = workspace.write("a1/y.csv", csv_text(*ROWS[2:5]))
    for name, path in (("gym.duckdb", first), ("warehouse.duckdb", second)):
        result = repflow("ingest", str(path), "--db", name, cwd=workspace.root)
        assert result.returncode == 0, result.stderr
    counts = {
        name: workspace.query("SELECT count(*) FROM sets", db=workspace.root / name)[0][0]
        for name in ("gym.analytics.duckdb", "analytics.duckdb")
    }
    assert counts == {"gym.analytics.duckdb": 2, "analytics.duckdb": 3}
    shown = repflow(
        "sql", "SELECT count(*) AS n FROM sets", "--db", "gym.duckdb", cwd=workspace.root
    )
    assert shown.returncode == 0 and "2" in shown.stdout.split()


def test_the_lock_message_names_the_real_holder(workspace: Workspace) -> None:
    """A backup holds the run lock with `flock`, which writes no PID: the file still names the
    last repflow run, long dead. The message names the backup."""
    path = workspace.write("a1/x.csv", csv_text(*ROWS[:2]))
    assert repflow("ingest", str(path), cwd=workspace.root).returncode == 0
    lock = workspace.root / "warehouse.duckdb.run.lock"
    lock.write_text("999999")  # a dead PID, as a run that ended leaves it
    backup = subprocess.Popen(["flock", str(lock), "sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while holder(lock) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        second = workspace.write("a1/y.csv", csv_text(*ROWS[2:4]))
        env = {"REPFLOW_LOCK_TIMEOUT_S": "0.3"}
        result = repflow("ingest", str(second), cwd=workspace.root, env=env)
    finally:
        backup.kill()
        backup.wait()
    line = one_line(result.stderr)
    assert result.returncode == 1
    assert "999999" not in line and "sleep 30" in line, line
    # A run that found the warehouse held is in the journal, and so in status.
    rows = status_rows(workspace.db, workspace.root)
    assert any(" ingest " in row and " failed " in row for row in rows), rows


def test_a_file_that_vanishes_mid_run_fails_alone(workspace: Workspace) -> None:
    keep = workspace.write("a1/keep.csv", csv_text(*ROWS[:3]))
    workspace.write("a1/gone.csv", csv_text(*ROWS[3:6]))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)

    def vanishing_read(
        found: discovery.Discovered, settle_s: float, hold: bool, copy_to: Path | None
    ) -> content.Content:
        if found.relative == "a1/gone.csv":  # between discovery and its read
            found.path.unlink()
        return parsing.read_found(found, settle_s, hold, copy_to)

    summary = pipeline.execute(config, files, "ingest", None, pipeline.Steps(read=vanishing_read))
    outcomes = {info.path: outcome for info, outcome in summary.files}
    assert outcomes["a1/keep.csv"].status == "loaded"
    assert outcomes["a1/gone.csv"].status == "failed"
    assert "could not read the file" in str(outcomes["a1/gone.csv"].error)
    assert summary.exit_code == 1
    assert keep.exists()
