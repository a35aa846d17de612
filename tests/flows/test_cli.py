"""The `repflow` command as a user runs it: exit codes, messages, and which database it reads."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, Workspace, csv_text, repflow
from warehouse.lock import run_lock

ROWS = [
    "2026-11-16T07:00:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-16T07:03:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-16T07:06:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-19T07:00:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-19T07:03:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-19T07:06:00,Back Extension (Machine),15,40,kg,,working",
]


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def flow_run_logs(prefect_home: Path) -> list[tuple[int, str]]:
    """(level, message) of the last flow run's log in that Prefect home: what `prefect flow-run
    logs` shows, read from the database Prefect's server keeps there (without starting one)."""
    con = sqlite3.connect(prefect_home / "prefect.db")
    try:
        rows = con.execute(
            "SELECT level, message FROM log WHERE flow_run_id = "
            "(SELECT id FROM flow_run ORDER BY start_time DESC LIMIT 1) ORDER BY timestamp"
        ).fetchall()
    finally:
        con.close()
    return [(int(level), message.replace("\n", " ")) for level, message in rows]


@pytest.mark.slow
def test_run_end_to_end_flags_in_v_current_flags(workspace: Workspace) -> None:
    workspace.write("a7/machine.csv", csv_text(*ROWS))
    args = ["--inbox", "inbox", "--db", "wh/warehouse.duckdb", "--as-of", "2026-11-20"]
    first = repflow("run", *args, cwd=workspace.root)
    no_traceback(first)
    assert first.returncode == 0, first.stderr
    assert "6 new" in first.stdout and "raise_load" in first.stdout
    assert "a7/machine.csv (canonical_csv): 6 new [" in first.stderr  # the flow's progress lines
    assert " INFO " not in first.stdout + first.stderr  # Prefect stays quiet
    assert (workspace.root / "wh" / ".prefect").is_dir()  # Prefect's state beside the warehouse
    # ... and the flow run's log in Prefect has each file and the summary, at INFO.
    logged = flow_run_logs(workspace.root / "wh" / ".prefect")
    run_line = first.stdout.splitlines()[0]  # `run <id>: succeeded`
    assert (20, run_line) in logged
    assert any(level == 20 and "a7/machine.csv (canonical_csv): 6 new" in m for level, m in logged)
    assert (20, "  flags as of 2026-11-20: 1 raise_load") in logged
    snapshot = workspace.root / "wh" / "analytics.duckdb"
    assert workspace.query(
        "SELECT athlete_id, exercise_id, action, next_sets, next_reps, next_load_kg, evidence "
        "FROM v_current_flags",
        db=snapshot,
    ) == [
        (
            "a7",
            "back_extension_machine",
            "raise_load",
            3,
            8,
            45.0,
            [__import__("datetime").date(2026, 11, 16), __import__("datetime").date(2026, 11, 19)],
        )
    ]
    (workspace.inbox / "a7" / "broken.csv").write_text("performed_at,exercise\n")
    second = repflow("run", *args, cwd=workspace.root)
    no_traceback(second)
    assert second.returncode == 1
    assert "broken.csv" in second.stdout and "unrecognised format" in second.stdout
    assert "UnreadableFile" not in second.stderr  # a bad file is an outcome, not a task crash
    flags = repflow("flags", "--db", "wh/warehouse.duckdb", "--format", "json", cwd=workspace.root)
    assert flags.returncode == 0
    assert [f["action"] for f in json.loads(flags.stdout)] == ["raise_load"]


def test_ingest_loads_without_prefect_and_reads_go_to_the_snapshot(workspace: Workspace) -> None:
    path = workspace.write("a7/machine.csv", csv_text(*ROWS))
    result = repflow("ingest", str(path), "--db", "warehouse.duckdb", cwd=workspace.root)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "6 new" in result.stdout
    assert workspace.query("SELECT DISTINCT athlete_id FROM sets") == [("a7",)]
    assert workspace.snapshot.exists()
    status = repflow("status", cwd=workspace.root)
    assert status.returncode == 0 and "ingest" in status.stdout
    count = repflow("sql", "SELECT count(*) AS n FROM sets", cwd=workspace.root)
    assert count.returncode == 0 and "6" in count.stdout
    flags = repflow("flags", cwd=workspace.root)
    assert flags.returncode == 0 and "no flags yet" in flags.stdout


def test_ingest_needs_an_athlete_for_files_that_name_none(workspace: Workspace) -> None:
    path = workspace.root / "loose.csv"
    path.write_text(csv_text(*ROWS))
    failed = repflow("ingest", str(path), cwd=workspace.root)
    assert failed.returncode == 1 and "no athlete folder" in failed.stdout
    loaded = repflow("ingest", str(path), "--athlete", "a9", cwd=workspace.root)
    assert loaded.returncode == 0, loaded.stdout
    assert workspace.query("SELECT DISTINCT athlete_id FROM sets") == [("a9",)]


def test_read_commands_before_any_run_say_so(workspace: Workspace) -> None:
    result = repflow("flags", cwd=workspace.root)
    no_traceback(result)
    assert result.returncode == 1 and "does not exist yet" in result.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["run", "--as-of", "2026-13-01"], {}, "--as-of"),
        (["run"], {"REPFLOW_TIMEZONE": "Mars/Olympus"}, "REPFLOW_TIMEZONE: timezone"),
        (["run", "--config", "missing-dir"], {}, "config folder not found"),
        (["flags", "--format", "xml"], {}, "--format"),
        (["run", "--runner", "ray"], {}, "--runner: runner: Input should be 'local' or 'dask'"),
        (["run", "--runner", "dask", "--dask-workers", "0"], {}, "--dask-workers"),
        (["run"], {"REPFLOW_DASK_ADDRESS": "http://x"}, "REPFLOW_DASK_ADDRESS: dask_address"),
        (
            ["run", "--runner", "dask", "--dask-address", "tcp://192.0.2.1:8786"],
            {},
            "set PREFECT_API_URL to a Prefect server they can reach",
        ),
        (["run", "--warehouse", "ducklake:duckdb:x"], {}, "is not a DuckLake warehouse"),
        (["ingest", "inbox", "--warehouse", "ducklake:sqlite:c.sqlite"], {}, "needs a data path"),
        (["sql", "--at", "3", "SELECT 1"], {}, "--at reads an earlier snapshot of a DuckLake"),
        (["run", "--dask-address", "tcp://127.0.0.1:8786"], {}, "but the runner is local"),
    ],
    ids=[
        "bad-date",
        "bad-timezone",
        "no-config",
        "bad-format",
        "bad-runner",
        "no-workers",
        "bad-address",
        "remote-cluster-without-api",
        "bad-lake",
        "no-data-path",
        "at",
        "address-without-dask",
    ],
)
def test_bad_usage_and_bad_settings_exit_2(
    workspace: Workspace, args: list[str], env: dict[str, str], expected: str
) -> None:
    result = repflow(*args, cwd=workspace.root, env=env)
    no_traceback(result)
    assert result.returncode == 2
    assert expected in result.stderr


def test_bad_program_config_exits_2_naming_file_key_and_reason(
    workspace: Workspace, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for name in ("repflow.toml", "exercises.toml"):
        (config / name).write_text((ROOT / "config" / name).read_text())
    programs = (ROOT / "config" / "programs.toml").read_text()
    (config / "programs.toml").write_text(programs.replace("reps = [10, 15]", "reps = [15, 10]"))
    workspace.write("a1/x.csv", csv_text(*ROWS))
    result = repflow("run", "--config", str(config), cwd=workspace.root)
    no_traceback(result)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line
    assert "programs.toml: programs.hyperextension.reps: min 15 is above max 10" in line
    assert not (workspace.root / "warehouse.duckdb").exists()  # nothing was loaded


def test_held_warehouse_exits_1_naming_the_holder(workspace: Workspace) -> None:
    path = workspace.write("a1/x.csv", csv_text(*ROWS))
    with run_lock(workspace.db):
        result = repflow(
            "ingest", str(path), cwd=workspace.root, env={"REPFLOW_LOCK_TIMEOUT_S": "0.3"}
        )
    no_traceback(result)
    assert result.returncode == 1
    assert f"PID {os.getpid()}" in result.stderr


def test_flags_csv_neutralises_formulas(workspace: Workspace) -> None:
    rows = [f"2026-11-16T07:0{i}:00,=cmd|' /C calc'!A0,10,20,kg,," for i in range(3)]
    path = workspace.write("a1/x.csv", csv_text(*rows))
    assert repflow("ingest", str(path), cwd=workspace.root).returncode == 0
    import polars as pl

    from flows.cli.reading import csv_safe

    frame = pl.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok", "+1"]})
    assert csv_safe(frame)["name"].to_list() == ["'=cmd|' /C calc'!A0", "ok", "'+1"]
    assert workspace.query("SELECT DISTINCT exercise_raw FROM sets") == [("=cmd|' /C calc'!A0",)]


def test_wheel_ships_config_and_migrations(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if built.returncode != 0 and "hatchling" in built.stderr:
        built = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "-q",
                "-w",
                str(tmp_path),
                str(ROOT),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("repflow-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "config/programs.toml",
        "config/exercises.toml",
        "config/repflow.toml",
        "config/catalog/free-exercise-db.json",
        "config/catalog/catalog.toml",
        "config/catalog/LICENSE-free-exercise-db.md",
        "warehouse/migrations/0001_init.sql",
        "report/templates/report.html.j2",
        "flows/cli/__init__.py",
        "schemas/set_row.py",
    ):
        assert required in names


def test_a_second_run_exits_1_before_starting_prefect(workspace: Workspace) -> None:
    import time

    workspace.write("a1/x.csv", csv_text(*ROWS))
    with run_lock(workspace.db):
        started = time.monotonic()
        result = repflow("run", cwd=workspace.root, env={"REPFLOW_LOCK_TIMEOUT_S": "0.2"})
        elapsed = time.monotonic() - started
    no_traceback(result)
    assert result.returncode == 1
    assert f"another repflow run (PID {os.getpid()})" in result.stderr
    assert elapsed < 8  # no Prefect start-up before the lock
    assert not (workspace.root / ".prefect").exists()


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    no_traceback(result)
    line = result.stderr.strip()
    assert "\n" not in line, result.stderr
    return line


@pytest.mark.slow  # imports Prefect
def test_serve_with_a_bad_cron_exits_2(workspace: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    for name in ("programs.toml", "exercises.toml"):
        (config / name).write_text((ROOT / "config" / name).read_text())
    (config / "repflow.toml").write_text('[schedule]\ncron = "61 3 * * *"\n')
    result = repflow("serve", "--config", str(config), cwd=workspace.root)
    assert result.returncode == 2
    assert one_line_error(result).startswith(f"repflow: {config / 'repflow.toml'}: schedule.cron: ")
    assert not (workspace.root / ".prefect" / "server.log").exists()  # no server was started


@pytest.mark.slow  # imports Prefect
def test_serve_on_a_port_in_use_exits_1(workspace: Workspace) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = repflow("serve", "--port", str(port), cwd=workspace.root)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in one_line_error(result)


@pytest.mark.slow  # imports Prefect
def test_serve_against_a_prefect_api_url_nobody_answers_exits_1(workspace: Workspace) -> None:
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens there
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/api"
    result = repflow("serve", cwd=workspace.root, env={"PREFECT_API_URL": url})
    assert result.returncode == 1
    assert one_line_error(result) == f"repflow: no Prefect server answers at PREFECT_API_URL {url}"


@pytest.mark.parametrize("where", ["serving", "starting the server"])
def test_a_stop_that_lands_in_code_wrapping_it_is_still_a_clean_stop(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """SIGTERM raises KeyboardInterrupt wherever `serve` is; pydantic, caught building a schema,
    re-raises it as its own error. `serve` must still stop as asked, not report a failure, nor
    end in a traceback, while it serves and while its local server starts."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from typer.testing import CliRunner

    from flows import serve as serving
    from flows.cli import serving as serve_command

    def interrupted(*args: object, **kwargs: object) -> None:
        try:
            serve_command._stop_on_signal(signal.SIGTERM, None)
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error building validator: KeyboardInterrupt") from exc

    class Starting:  # a local server whose start is interrupted
        def __init__(self, *args: object, **kwargs: object) -> None:
            self.error = None

        __enter__ = interrupted

        def __exit__(self, *exc: object) -> None:
            pass

    serving_url = "http://127.0.0.1:9/api" if where == "serving" else None
    monkeypatch.setattr(serving, "serve", interrupted)
    monkeypatch.setattr(serve_command, "LocalServer", Starting)
    monkeypatch.setattr(serve_command, "healthy", lambda url: True)
    monkeypatch.setenv("PREFECT_HOME", str(workspace.root / ".prefect"))
    for name in (  # the defaults serve puts in os.environ go when the test ends
        "PREFECT_LOGGING_LEVEL",
        "PREFECT_SERVER_LOGGING_LEVEL",
        "PREFECT_LOGGING_SERVER_LEVEL",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS",
        "DASK_LOGGING__DISTRIBUTED",
    ):
        monkeypatch.delenv(name, raising=False)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:  # a server that answers (`healthy`), so that none is started
        with temporary_settings(updates={PREFECT_API_URL: serving_url}):
            result = CliRunner().invoke(serve_command.app, ["serve", "--db", str(workspace.db)])
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    assert result.exit_code == 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "serving failed" not in result.output
    assert ("stopped serving" in result.output) == (where == "serving")


def test_sql_hides_a_lake_password_when_the_lake_cannot_be_opened(workspace: Workspace) -> None:
    lake = "ducklake:postgres:host=127.0.0.1 port=1 dbname=x user=u password=hunter2"
    result = repflow("sql", "--warehouse", lake, "SELECT 1", cwd=workspace.root)
    no_traceback(result)
    assert result.returncode == 1, result.stderr  # the warehouse, not the query, failed
    assert "hunter2" not in result.stdout + result.stderr
    assert "password=***" in result.stderr
