"""The nightly flow into a DuckLake whose catalog is a real PostgreSQL server, with an analyst
reading the lake the whole time, compared with the single-file warehouse.

PostgreSQL comes from Debian's `postgresql` package (tests/debian.py installs it where missing);
the server runs from a temporary folder on a free port and stops at the end of the session.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows import discovery, pipeline
from tests import debian
from tests.cases import live_processes
from tests.conftest import Workspace, csv_text, repflow
from tests.reliability.test_crash import STATE_QUERIES
from tests.warehouse.test_lake import small_inbox, state
from warehouse import journal
from warehouse.lake import Lake
from warehouse.lock import run_lock

pytestmark = [pytest.mark.slow, pytest.mark.debian("postgresql")]
AS_OF = date(2026, 11, 30)


@dataclass(frozen=True)
class Postgres:
    socket_dir: Path
    port: int

    def dsn(self, database: str) -> str:
        return f"dbname={database} host={self.socket_dir} port={self.port} user=postgres"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: drop to the `postgres` user the package creates."""
    if os.geteuid() != 0:
        return {}
    import pwd

    user = pwd.getpwnam("postgres")
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """A PostgreSQL server of its own, in a temporary folder on a free port, stopped after."""
    # Not under pytest's tmp_path: its folders are private to root, and the server is not root.
    root = Path(tempfile.mkdtemp(prefix="repflow-pg-"))
    server = Postgres(root, _free_port())
    user = _as_postgres()
    if user:
        os.chown(root, user["user"], user["group"])
    data = root / "data"
    started = False
    try:
        steps = [
            ("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"),
            (
                "pg_ctl",
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-w",
                "-t",
                "60",
                "-o",
                f"-p {server.port} -k {root} -c listen_addresses='' -c fsync=off",
                "start",
            ),
        ]
        for tool, *args in steps:
            done = pg(tool, *args)
            if done.returncode != 0:
                pytest.skip(f"PostgreSQL could not start ({tool}): {done.stderr.strip()[-300:]}")
            started = started or tool == "pg_ctl"
        yield server
    finally:
        if started:
            pg("pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def pg(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one of PostgreSQL's programs as the server's user."""
    bin_dir = Path(debian.require("postgresql")).parent
    return subprocess.run(
        [str(bin_dir / tool), *args],
        capture_output=True,
        text=True,
        timeout=120,
        **_as_postgres(),
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


def create_database(server: Postgres, name: str) -> str:
    bin_dir = Path(debian.require("postgresql")).parent
    subprocess.run(
        [str(bin_dir / "createdb"), "-h", str(server.socket_dir), "-p", str(server.port), name],
        env={**os.environ, "PGUSER": "postgres"},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return server.dsn(name)


ANALYST = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from warehouse.db import reader
    from warehouse.lake import Lake

    lake, stop = Lake("postgres", sys.argv[1]), Path(sys.argv[2])
    # One statement, so both counts come from the same snapshot.
    whole = (
        "SELECT (SELECT count(*) FROM sets), (SELECT coalesce(sum(rows_loaded), 0) "
        "FROM ingested_files WHERE status = 'loaded')"
    )
    seen, queries = set(), 0
    with reader(lake) as con:
        while True:
            last = stop.exists()
            stored, recorded = con.execute(whole).fetchone()
            queries += 1
            if stored != recorded:
                sys.exit(f"half a file: {stored} sets stored, {recorded} recorded")
            seen.add(stored)
            if last:
                break
            time.sleep(0.05)
    print(queries, *sorted(seen))
    """
)


def test_nightly_into_a_postgres_lake_with_an_analyst_reading(
    workspace: Workspace, postgres: Postgres, prefect_home: dict[str, str]
) -> None:
    small_inbox(workspace)
    dsn = create_database(postgres, "nightly")
    where = Lake("postgres", dsn)
    data = workspace.root / "lake-data"
    lake_flags = ["--warehouse", f"ducklake:postgres:{dsn}", "--data-path", str(data)]
    # The lake exists before the analyst starts: one file, loaded by hand.
    first = repflow(
        "ingest", str(workspace.inbox / "a1" / "export-1.csv"), *lake_flags, cwd=workspace.root
    )
    assert first.returncode == 0, first.stderr
    before = state(where)["sets"]
    snapshot = re.search(r"lake: at snapshot (\d+)", first.stdout)
    assert snapshot is not None, first.stdout

    stop = workspace.root / "analyst.stop"
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, dsn, str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        night = repflow(
            "run",
            "--inbox",
            str(workspace.inbox),
            *lake_flags,
            "--as-of",
            AS_OF.isoformat(),
            cwd=workspace.root,
            env=prefect_home,
            timeout=300,
        )
    finally:
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    assert night.returncode == 1, night.stderr  # the broken file fails, the rest loads
    assert "lake: at snapshot" in night.stdout
    assert analyst.returncode == 0, err
    queries, *seen = map(int, out.split())
    assert queries >= 2 and len(before) in seen

    files, skipped = discovery.inbox_files(workspace.config())
    pipeline.execute(workspace.config(), files, "run", AS_OF, skipped=skipped)
    lake_state, file_state = state(where), state(workspace.db)
    assert len(lake_state["sets"]) > len(before)
    for name in STATE_QUERIES:
        assert lake_state[name] == file_state[name], name
    assert max(seen) == len(lake_state["sets"])
    assert any(data.rglob("*.parquet"))

    # The read commands attach the lake read-only; --at reads the lake before the run.
    earlier = repflow(
        "sql",
        "--warehouse",
        f"ducklake:postgres:{dsn}",
        "--at",
        snapshot.group(1),
        "SELECT count(*) AS stored FROM sets",
        cwd=workspace.root,
    )
    assert earlier.returncode == 0, earlier.stderr
    assert f"│ {len(before)} " in earlier.stdout
    flags = repflow(
        "flags", "--warehouse", f"ducklake:postgres:{dsn}", "--format", "csv", cwd=workspace.root
    )
    assert flags.returncode == 0, flags.stderr
    assert len(flags.stdout.splitlines()) == len(lake_state["v_current_flags"]) + 1


def test_a_second_writer_waits_for_the_advisory_lock(
    workspace: Workspace, postgres: Postgres
) -> None:
    dsn = create_database(postgres, "locked")
    export = workspace.write("a1/x.csv", csv_text("2026-11-16T07:00:00,Back Extension,10,0,kg,,"))
    data = str(workspace.root / "lake-data")
    ingest = ["ingest", str(export), "--warehouse", f"ducklake:postgres:{dsn}", "--data-path", data]
    env = {"REPFLOW_LOCK_TIMEOUT_S": "0.5"}
    with run_lock(Lake("postgres", dsn)):
        blocked = repflow(*ingest, cwd=workspace.root, env=env)
    assert blocked.returncode == 1
    assert "holds PostgreSQL advisory lock" in blocked.stderr
    assert blocked.stderr.count("\n") == 1
    released = repflow(*ingest, cwd=workspace.root, env=env)
    assert released.returncode == 0, released.stderr
    assert "1 new" in released.stdout


def test_a_catalog_killed_mid_run_ends_the_run_with_a_recorded_failure(
    workspace: Workspace, prefect_home: dict[str, str]
) -> None:
    """Fault 7: the catalog's server dies while the run stores files. The run ends in one line
    and exit 1 (not an abort), its failure is in the runs journal, and nothing it started (the
    ephemeral Prefect server) is left behind."""
    for n in range(120):
        workspace.write(
            f"m{n:03d}/log.csv", csv_text(f"2026-11-03T07:{n % 60:02d}:00,Squat,5,60,kg,,")
        )
    with running_postgres() as server:
        dsn = create_database(server, "doomed")
        command = [
            str(Path(sys.executable).with_name("repflow")),
            "run",
            "--inbox",
            str(workspace.inbox),
            "--warehouse",
            f"ducklake:postgres:{dsn}",
            "--data-path",
            str(workspace.root / "lake-data"),
            "--as-of",
            AS_OF.isoformat(),
            "--quiet",
        ]
        # Batches of 10 files: the journal has a parse record a batch to wait for.
        env = {**os.environ, **prefect_home, "REPFLOW_SETTLE_S": "0", "REPFLOW_BATCH_FILES": "10"}
        run = subprocess.Popen(
            command,
            cwd=workspace.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        deadline = time.monotonic() + 240
        while parses(workspace.journal) < 5 and time.monotonic() < deadline:
            assert run.poll() is None, run.communicate()
            time.sleep(0.1)
        stopped = pg("pg_ctl", "-D", str(server.socket_dir / "data"), "-m", "immediate", "stop")
        assert stopped.returncode == 0, stopped.stderr
        out, err = run.communicate(timeout=300)
    assert run.returncode == 1, (run.returncode, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("repflow: "), err
    ends = [r for r in journal.read(workspace.journal) if r["event"] == "end"]
    assert [r["status"] for r in ends] == ["failed"] and ends[0]["error"]
    deadline = time.monotonic() + 30
    while left := [p for p in live_processes() if p.session == run.pid]:
        assert time.monotonic() < deadline, left
        time.sleep(0.2)


def parses(path: Path) -> int:
    try:
        return path.read_text().count('"event": "parse"')
    except OSError:
        return 0
