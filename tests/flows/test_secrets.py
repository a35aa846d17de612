"""A DuckLake's password (DESIGN.md, Secrets) stays out of Prefect's parameters, state and logs,
the artifacts, the warehouse, error messages, and the DuckDB shell's command line."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import discovery, pipeline
from tests import debian
from tests.conftest import Workspace, repflow
from tests.flows.test_lake_postgres import Postgres, create_database, postgres  # noqa: F401
from tests.warehouse.test_lake import lake_config, small_inbox
from warehouse.db import reader
from warehouse.lake import Lake, close_writers, redact, redact_error

AS_OF = date(2026, 11, 30)
# Distinctive, with a blank and a quote, so libpq takes it only quoted and escaped; either part
# found anywhere is a leak.
LIBPQ_SECRET = "password='Qx7 pw\\'Zeta'"
SECRET_PARTS = ("Qx7", "Zeta")
URI_SECRET = "Uri9Secret"


def leaked(text: str | bytes) -> list[str]:
    """The parts of the libpq password found in `text`."""
    if isinstance(text, bytes):
        return [part for part in SECRET_PARTS if part.encode() in text]
    return [part for part in SECRET_PARTS if part in text]


def files_with_secret(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and leaked(path.read_bytes())]


@pytest.mark.parametrize(
    ("text", "secrets", "kept"),
    [
        (
            "dbname=lake host=db sslpassword=keysecret password='x y z' user=r",
            ["keysecret", "x y"],
            "dbname=lake host=db",
        ),
        ("dbname=lake password = 'it\\'s secret' port=5432", ["secret"], "port=5432"),
        ("postgresql://repflow:s3cr3t@db.internal:5432/lake", ["s3cr3t"], "@db.internal:5432/lake"),
        ("ducklake:postgres:postgres://r:two words@/lake?host=/run/pg", ["two words"], "host=/run"),
        ("PGPASSWORD=envsecret repflow run", ["envsecret"], "repflow run"),
        # DuckDB's own error when the catalog cannot be reached, which quotes the whole string.
        (
            "Unable to connect to Postgres at \"dbname=x password='se cret'\": connection failed",
            ["se cret"],
            ": connection failed",
        ),
        # A repr of a string holding both quote characters escapes the libpq quotes.
        (repr("dbname=x password='a\"b c'"), ["b c"], "dbname=x"),
    ],
)
def test_redact_hides_the_password_of_both_forms(text: str, secrets: list[str], kept: str) -> None:
    shown = redact(text)
    assert [secret for secret in secrets if secret in shown] == []
    assert "***" in shown and kept in shown


def test_redact_error_reaches_chained_errors_and_os_errors() -> None:
    try:
        try:
            raise OSError(2, "no catalog at postgresql://u:chained1@h/db", "password='file 2'")
        except OSError as inner:
            raise duckdb.IOException("attach failed: password='outer 3' host=h") from inner
    except duckdb.IOException as exc:
        redact_error(exc)
        cause = exc.__cause__
        assert isinstance(cause, OSError)
        shown = f"{exc} {cause}"
    for secret in ("chained1", "file 2", "outer 3"):
        assert secret not in shown
    assert "host=h" in shown and "u:***@h/db" in shown


def test_a_bad_warehouse_flag_is_reported_without_its_password(workspace: Workspace) -> None:
    # `postgresql` is not a catalog kind: the error repeats the value, password redacted.
    spec = f"ducklake:postgresql://repflow:{URI_SECRET}@db.internal/lake"
    result = repflow("run", "--warehouse", spec, "--db", str(workspace.db), cwd=workspace.root)
    assert result.returncode == 2, result.stderr
    assert "is not a DuckLake warehouse" in result.stderr
    assert URI_SECRET not in result.stdout + result.stderr
    assert "repflow:***@db.internal" in result.stderr


def test_run_nightly_keeps_the_warehouse_out_of_the_flow_runs_parameters(
    prefect_harness: None, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `repflow run` calls: the warehouse reaches the flow, not its parameters, and the
    environment is as it was afterwards."""
    from prefect import get_client

    from flows.nightly import run_nightly

    small_inbox(workspace)
    catalog = workspace.root / "catalog.sqlite"
    monkeypatch.delenv("REPFLOW_WAREHOUSE", raising=False)
    settings = {
        "inbox": str(workspace.inbox),
        "db": str(workspace.db),
        "warehouse": f"ducklake:sqlite:{catalog}",
        "data_path": str(workspace.root / "lake"),
    }
    try:
        summary = run_nightly(settings, as_of=AS_OF)
    finally:
        close_writers()
    assert "REPFLOW_WAREHOUSE" not in os.environ
    assert summary.total("loaded") > 0
    assert not workspace.db.exists()  # it loaded into the lake, not the DuckDB file
    with reader(Lake.parse(f"ducklake:sqlite:{catalog}", None)) as con:
        row = con.execute("SELECT status FROM runs WHERE run_id = ?", [summary.run_id]).fetchone()
    assert row is not None

    with get_client(sync_client=True) as client:
        runs = [
            run
            for run in client.read_flow_runs()
            if run.parameters.get("settings", {}).get("inbox") == str(workspace.inbox)
        ]
    assert len(runs) == 1
    assert runs[0].parameters["settings"] == {
        key: value for key, value in settings.items() if key != "warehouse"
    }


def test_a_failed_flow_run_keeps_the_password_out_of_its_state_and_logs(
    prefect_harness: None, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog cannot be reached: DuckDB's error quotes the connection string, and Prefect
    logs that error and keeps it as the failed state's message."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    from flows.nightly import nightly

    nowhere = workspace.root / "no-server"
    monkeypatch.setenv(
        "REPFLOW_WAREHOUSE",
        f"ducklake:postgres:host={nowhere} port=1 dbname=lake user=r {LIBPQ_SECRET}",
    )
    monkeypatch.setenv("REPFLOW_DATA_PATH", str(workspace.root / "lake"))
    state = nightly(
        settings={"inbox": str(workspace.inbox), "db": str(workspace.db)},
        as_of=AS_OF,
        return_state=True,
    )
    APILogWorker.drain_all(timeout=30)  # the run's logs reach the API
    assert state.is_failed()
    error = state.result(raise_on_failure=False)
    assert isinstance(error, BaseException)
    assert "password=***" in str(error) and leaked(str(error)) == []
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        states = client.read_flow_run_states(run_id)
    assert "warehouse" not in run.parameters["settings"]
    messages = [s.message or "" for s in states] + [log.message for log in logs]
    assert any("password=***" in message for message in messages)  # the error was recorded
    assert [message for message in messages if leaked(message)] == []


def _recording_duckdb(folder: Path) -> Path:
    """A `duckdb` for PATH that records its arguments, what its init file is (type and mode,
    and its folder's mode) and what it holds, then exits 7."""
    folder.mkdir()
    script = folder / "duckdb"
    script.write_text(
        "#!/bin/sh\n"
        'log="$(dirname "$0")"\n'
        'printf "%s\\n" "$@" > "$log/argv"\n'
        'init=""; previous=""\n'
        'for arg in "$@"; do [ "$previous" = "-init" ] && init="$arg"; previous="$arg"; done\n'
        'if [ -n "$init" ]; then\n'
        '  stat -c "%F %a" "$init" > "$log/init-stat"\n'
        '  stat -c "%a" "$(dirname "$init")" >> "$log/init-stat"\n'
        '  cat "$init" > "$log/init"\n'
        "fi\n"
        "exit 7\n"
    )
    script.chmod(0o755)
    return folder


def _open_shell_with(
    stub: Path, spec: str, cwd: Path, home: Path
) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{stub}:{os.environ['PATH']}", "HOME": str(home)}
    return repflow("sql", "--warehouse", spec, cwd=cwd, env=env)


def _check_shell(stub: Path, result: Any) -> tuple[str, list[str]]:
    """The shell ran once with `-init PATH`, a private named pipe gone afterwards; its
    init text and its arguments."""
    assert result.returncode == 7, result.stderr  # the shell's exit code is the command's
    argv = (stub / "argv").read_text().splitlines()
    assert argv[0] == "-init" and len(argv) == 2, argv
    init = Path(argv[1])
    assert init.parent.parent == Path(tempfile.gettempdir())
    assert init.parent.name.startswith("repflow-shell-")
    assert (stub / "init-stat").read_text().split("\n")[:2] == ["fifo 600", "700"]
    assert not init.exists() and not init.parent.exists()  # nothing is left behind
    return (stub / "init").read_text(), argv


def test_the_shell_gets_the_lake_from_a_private_init_pipe_not_its_command_line(
    workspace: Workspace, tmp_path: Path
) -> None:
    config = lake_config(workspace)
    small_inbox(workspace)
    try:
        files, skipped = discovery.inbox_files(config)
        pipeline.execute(config, files, "run", AS_OF, skipped=skipped)
    finally:
        close_writers()
    catalog = workspace.root / "catalog.sqlite"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".duckdbrc").write_text(".mode box\n")
    stub = _recording_duckdb(tmp_path / "bin")
    result = _open_shell_with(stub, f"ducklake:sqlite:{catalog}", workspace.root, home)
    init, argv = _check_shell(stub, result)
    assert init == (
        f".read '{home / '.duckdbrc'}'\n"
        f"ATTACH 'ducklake:sqlite:{catalog}' AS lake (READ_ONLY); USE lake;\n"
    )
    assert not [arg for arg in argv if str(catalog) in arg or "ATTACH" in arg]


pg = pytest.mark.debian("postgresql")


@pytest.mark.slow
@pg
def test_a_postgres_lakes_password_is_nowhere_but_the_shells_init_pipe(
    workspace: Workspace,
    postgres: Postgres,  # noqa: F811
    prefect_home: dict[str, str],
    tmp_path: Path,
) -> None:
    """`repflow run` with the password in `--warehouse` (libpq form, quoted), then `repflow
    sql` (URI form): grep Prefect's state folder (its database with the flow run's parameters,
    logs, states and artifacts), the output, the lake (every table, and the catalog database
    dumped) and what a stub `duckdb` received."""
    small_inbox(workspace)
    dsn = create_database(postgres, "secrets")  # trust authentication: any password is let in
    spec = f"ducklake:postgres:{dsn} {LIBPQ_SECRET}"
    data = workspace.root / "lake-data"
    night = repflow(
        "run",
        "--inbox",
        str(workspace.inbox),
        "--warehouse",
        spec,
        "--data-path",
        str(data),
        "--as-of",
        AS_OF.isoformat(),
        cwd=workspace.root,
        env=prefect_home,
        timeout=300,
    )
    assert night.returncode == 1, night.stderr  # the broken file fails, the rest loads
    assert "lake: at snapshot" in night.stdout
    assert leaked(night.stdout + night.stderr) == []

    home = Path(prefect_home["PREFECT_HOME"])
    with closing(sqlite3.connect(home / "prefect.db")) as db:
        runs = db.execute(
            "SELECT id, parameters FROM flow_run WHERE parameters LIKE ?",
            [f"%{workspace.inbox}%"],
        ).fetchall()
        assert len(runs) == 1 and "warehouse" not in runs[0][1]
        artifacts = db.execute(
            "SELECT count(*) FROM artifact WHERE flow_run_id = ?", [runs[0][0]]
        ).fetchone()
        assert artifacts == (2,)  # the summary and the files table
    assert files_with_secret(home) == []  # prefect.db, its WAL, any log

    lake = Lake.parse(spec, None)
    with reader(lake) as con:
        tables = [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = 'lake' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        assert {"runs", "ingested_files", "sets", "flags"} <= set(tables)
        stored = {name: con.execute(f'SELECT * FROM "{name}"').fetchall() for name in tables}
    assert stored["runs"]  # the run is recorded
    assert [name for name, rows in stored.items() if leaked(repr(rows))] == []
    pg_dump = Path(debian.require("postgresql")).parent / "pg_dump"
    dump = subprocess.run(
        [str(pg_dump), "-h", str(postgres.socket_dir), "-p", str(postgres.port), "secrets"],
        env={**os.environ, "PGUSER": "postgres"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "ducklake_snapshot" in dump and leaked(dump) == []
    assert files_with_secret(workspace.root) == []  # the inbox, the Parquet files, any lock

    uri = (
        f"ducklake:postgres:postgresql://postgres:{URI_SECRET}@/secrets"
        f"?host={postgres.socket_dir}&port={postgres.port}"
    )
    stub = _recording_duckdb(tmp_path / "bin")
    shell = _open_shell_with(stub, uri, workspace.root, tmp_path)
    init, argv = _check_shell(stub, shell)
    assert init == f"ATTACH '{uri}' AS lake (READ_ONLY); USE lake;\n"  # the shell gets it
    assert not [arg for arg in argv if URI_SECRET in arg]
    assert URI_SECRET not in shell.stdout + shell.stderr
