"""`repflow serve` end to end: a real Prefect server, the deployment, a run through the API.

One server is started for the module and shared; the second test lets `repflow serve` start its
own. Everything polls; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from flows.server import free_port
from tests.conftest import Workspace, csv_text
from warehouse.lock import run_lock

pytestmark = pytest.mark.slow

START_S = 180.0  # a fresh Prefect database migrates first; the CI machine is small
RUN_S = 120.0
STOP_S = 30.0
ROWS = [
    "2026-11-16T07:00:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-16T07:03:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-19T07:00:00,Back Extension (Machine),15,40,kg,,working",
    "2026-11-19T07:03:00,Back Extension (Machine),15,40,kg,,working",
]
T = TypeVar("T")


def poll(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout_s:g} s")


def get(url: str) -> Any:
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def quiet_prefect_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPFLOW_", "PREFECT_"))}
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        PREFECT_SERVER_UI_ENABLED="false",
    )
    env.update(extra)
    return env


def stop(process: subprocess.Popen[bytes], output: Path) -> tuple[int, str]:
    """SIGTERM it; its exit code and everything it printed."""
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=STOP_S)
    return process.returncode, output.read_text()


@dataclass(frozen=True)
class Server:
    api_url: str
    home: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `prefect server start` on a free port, with its own PREFECT_HOME. Without its
    background services and UI, which these tests do not use, so it starts sooner."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    log = (home / "server.log").open("wb")
    command = [sys.executable, "-m", "prefect", "server", "start", "--no-services"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=quiet_prefect_env(PREFECT_HOME=str(home)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        poll("healthy Prefect server", lambda: get(f"{url}/health"), START_S)
        yield Server(url, home)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_S)
        log.close()


def start_serve(
    workspace: Workspace, output: Path, *args: str, **env: str
) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("repflow")), "serve", *args]
    with output.open("wb") as sink:
        return subprocess.Popen(
            command,
            cwd=workspace.root,
            # The runner polls every second rather than every 10; a locked run gives up in 1 s.
            env=quiet_prefect_env(
                PREFECT_RUNNER_POLL_FREQUENCY="1", REPFLOW_LOCK_TIMEOUT_S="1", **env
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )


def deployment_for(url: str, workspace: Workspace) -> Callable[[], dict[str, Any] | None]:
    """The served deployment, once it is registered with this workspace's warehouse."""

    def probe() -> dict[str, Any] | None:
        found = get(f"{url}/deployments/name/nightly/nightly")
        if found and found["parameters"]["settings"]["db"] == str(workspace.db.resolve()):
            return dict(found)
        return None

    return probe


def run_deployment(url: str, deployment_id: str, **parameters: str) -> dict[str, Any]:
    # Prefect's server answers 503 while its SQLite database is busy (a loaded CI machine):
    # ask again, for a while.
    deadline = time.monotonic() + 60
    while True:
        created = httpx.post(
            f"{url}/deployments/{deployment_id}/create_flow_run",
            json={"parameters": parameters},
            timeout=10,
        )
        if created.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(1)
    created.raise_for_status()
    run_id = created.json()["id"]

    def finished() -> dict[str, Any] | None:
        run = get(f"{url}/flow_runs/{run_id}")
        return run if run and run["state_type"] in {"COMPLETED", "FAILED", "CRASHED"} else None

    return poll("finished flow run", finished, RUN_S)


def test_serve_runs_the_deployment_and_stops_on_sigterm_with_the_schedule_active(
    server: Server, workspace: Workspace
) -> None:
    api_url = server.api_url
    workspace.write("a7/machine.csv", csv_text(*ROWS))
    settings = workspace.config().settings
    output = workspace.root / "serve.out"
    serve = start_serve(workspace, output, PREFECT_API_URL=api_url)
    try:
        deployment = poll("registered deployment", deployment_for(api_url, workspace), START_S)
        (schedule,) = deployment["schedules"]
        assert schedule["schedule"]["cron"] == settings.schedule.cron
        assert schedule["schedule"]["timezone"] == settings.schedule.timezone
        assert schedule["active"] and not deployment["paused"]

        # As the UI's "custom run" sends it: the deployment's settings, plus as_of as text.
        run = run_deployment(api_url, deployment["id"], as_of="2026-11-20")
        assert run["state_type"] == "COMPLETED", run["state"]
        assert workspace.scalar("SELECT count(*) FROM sets") == len(ROWS)
        flags = workspace.query("SELECT as_of, action FROM v_current_flags", db=workspace.snapshot)
        assert flags and {as_of for as_of, _ in flags} == {date(2026, 11, 20)}
        assert all(action for _, action in flags)

        # A scheduled run while another holds the warehouse fails cleanly, naming the holder.
        with run_lock(workspace.db):
            locked = run_deployment(api_url, deployment["id"])
        assert locked["state_type"] == "FAILED"
        assert f"another repflow run (PID {os.getpid()})" in locked["state"]["message"]
    finally:
        started = time.monotonic()
        code, out = stop(serve, output)
    assert code == 0, out
    assert time.monotonic() - started < 20
    # The locked run's failure is logged with Prefect's traceback; serve itself ends cleanly.
    assert out.splitlines()[-1] == "stopped serving; the schedule stays active", out
    after = get(f"{api_url}/deployments/{deployment['id']}")
    assert not after["paused"] and after["schedules"][0]["active"]


def test_serve_without_an_api_url_supervises_its_own_server(
    server: Server, workspace: Workspace
) -> None:
    # Its own server on its own port, in its own PREFECT_HOME beside the warehouse; the database
    # there starts as a copy of the shared server's, so it need not migrate again.
    home = workspace.root / ".prefect"
    home.mkdir()
    with (
        closing(sqlite3.connect(server.home / "prefect.db")) as source,
        closing(sqlite3.connect(home / "prefect.db")) as copy,
    ):
        source.backup(copy)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    output = workspace.root / "serve.out"
    serve = start_serve(workspace, output, "--port", str(port))
    try:
        assert poll("registered deployment", deployment_for(url, workspace), START_S)
        assert (home / "server.log").exists()
        # The UI reads where the API is from the server: this port, not Prefect's 4200.
        ui = get(f"http://127.0.0.1:{port}/ui-settings")
        assert ui is not None and ui["api_url"] == url
    finally:
        code, out = stop(serve, output)
    assert code == 0, out
    assert f"against {url}" in out
    assert get(f"{url}/health") is None  # the child server is gone with it
