"""A local `prefect server start`, run and watched by `repflow serve` when PREFECT_API_URL is unset.

Prefect's ephemeral mode runs no scheduler, so a cron needs a real server. This one listens on
127.0.0.1 only, keeps its state in PREFECT_HOME (beside the warehouse) and its output in
`server.log` there. If it dies it is restarted, a few times; after that `repflow serve` stops
with the reason rather than serving a schedule nobody runs.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0  # a first start migrates Prefect's database: slow on a busy machine
STOP_TIMEOUT_S = 15.0
MAX_RESTARTS = 3
STABLE_S = 600.0  # a server that ran this long before dying starts a fresh count of restarts
POLL_S = 0.25


class ServerError(Exception):
    """The local server cannot be started or kept running; the message is one line."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise ServerError(
                f"port {port} on {HOST} is in use: choose another with --port or "
                "[schedule] server_port, or set PREFECT_API_URL to a running Prefect server"
            ) from None


def healthy(api_url: str) -> bool:
    import httpx  # here, not at the top: the CLI imports this module for every command

    try:
        return httpx.get(f"{api_url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


class LocalServer:
    """`prefect server start` as a child process: started, health-checked, restarted, stopped.

    Use as a context manager; `on_give_up` is called (from the watcher thread) when the server
    died and could not be brought back, after `error` is set. `command` replaces
    `prefect server start` (the tests supervise a stand-in)."""

    def __init__(
        self,
        home: Path,
        port: int,
        on_give_up: Callable[[], None],
        start_timeout_s: float = START_TIMEOUT_S,
        command: list[str] | None = None,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.on_give_up = on_give_up
        self.start_timeout_s = start_timeout_s
        self.command = command or [
            *(sys.executable, "-m", "prefect", "server", "start"),
            *("--host", HOST, "--port", str(self.port)),
        ]
        self.api_url = f"http://{HOST}:{self.port}/api"
        self.log_path = home / "server.log"
        self.error: str | None = None
        self.restarts = 0
        self.up_since = 0.0  # time.monotonic() when the server last answered after a start
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._stopping = threading.Event()
        self._watcher = threading.Thread(
            target=self._watch, name="prefect-server-watch", daemon=True
        )

    def __enter__(self) -> LocalServer:
        check_port_free(self.port)
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._watcher.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def _start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        env["PREFECT_HOME"] = str(self.home)
        # The UI asks the server where its API is, and Prefect answers from its settings, not
        # from --port: without this, a server on another port sends the UI to 4200. An
        # operator's own setting (a reverse proxy's address) stays.
        if not {"PREFECT_UI_API_URL", "PREFECT_SERVER_UI_API_URL"} & env.keys():
            env["PREFECT_UI_API_URL"] = self.api_url
        # Its own session: stopping it reaches every process it started, and a Ctrl-C meant
        # for `repflow serve` does not kill it before the runner has stopped.
        self._process = subprocess.Popen(
            self.command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # A restart is cut short by `repflow serve` stopping.
        what = "the local Prefect server"
        if wait_until_healthy(
            self._process,
            self.api_url,
            self.start_timeout_s,
            self.log_path,
            what,
            POLL_S,
            self._stopping,
        ):
            self.up_since = time.monotonic()

    def _watch(self) -> None:
        """Restart the server when it dies; give up after MAX_RESTARTS."""
        while not self._stopping.wait(POLL_S):
            process = self._process
            if process is None or process.poll() is None:
                continue
            if self._stopping.is_set():
                return
            if time.monotonic() - self.up_since > STABLE_S:
                self.restarts = 0
            if self.restarts >= MAX_RESTARTS:
                self.error = (
                    f"the local Prefect server died (exit code {process.returncode}) and was "
                    f"restarted {self.restarts} times; see {self.log_path}"
                )
                self.on_give_up()
                return
            self.restarts += 1
            self._write_log(
                f"repflow: restarting the Prefect server (exit code {process.returncode})"
            )
            try:
                self._start()
            except ServerError as exc:
                self.error = str(exc)
                self.on_give_up()
                return

    def _write_log(self, line: str) -> None:
        if self._log is not None:
            self._log.write(f"{line}\n".encode())
            self._log.flush()

    def _terminate(self) -> None:
        terminate(self._process)

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive() and self._watcher is not threading.current_thread():
            self._watcher.join()
        self._terminate()
        if self._log is not None:
            self._log.close()
            self._log = None


def wait_until_healthy(
    process: subprocess.Popen[bytes],
    api_url: str,
    timeout_s: float,
    log_path: Path,
    what: str,
    poll_s: float,
    stopping: threading.Event | None = None,
) -> bool:
    """Poll until the server answers (True), or `stopping` is set (False). ServerError, one
    line, when it exits first or does not answer in time (then it is stopped)."""
    deadline = time.monotonic() + timeout_s
    while not healthy(api_url):
        if stopping is not None and stopping.is_set():
            return False
        code = process.poll()
        if code is not None:
            raise ServerError(f"{what} exited with code {code} while starting; see {log_path}")
        if time.monotonic() >= deadline:
            terminate(process)
            raise ServerError(
                f"{what} did not answer on {api_url} within {timeout_s:g} s; see {log_path}"
            )
        time.sleep(poll_s)
    return True


def terminate(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a server started in its own session, and every process it started."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        process.wait()


# Linux's prctl(PR_SET_PDEATHSIG): a child is sent SIGTERM when its parent dies, so that no
# server outlives a killed run.
PR_SET_PDEATHSIG = 1


def _dies_with_parent() -> Callable[[], object] | None:
    """What a child runs before its program, on Linux: loaded here, as the child must import
    nothing between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class RunServer:
    """Prefect's ephemeral API server for one `repflow run`, started as Prefect starts its own
    (uvicorn on Prefect's app, no UI) but before Prefect is imported, with PREFECT_API_URL set
    to it. The server's start-up then overlaps the run's own imports, and the run does not
    import Prefect's server modules, which Prefect's ephemeral mode does only to start one in a
    subprocess (about 3 s). Its output goes to `server.log` in PREFECT_HOME."""

    def __init__(
        self,
        home: Path,
        start_timeout_s: float = START_TIMEOUT_S,
        port: int = 0,
        command: list[str] | None = None,
    ) -> None:
        self.home = home
        self.port = port or free_port()
        self.api_url = f"http://{HOST}:{self.port}/api"
        self.start_timeout_s = start_timeout_s
        self.log_path = home / "server.log"
        self.command = command or [
            *(sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"),
            *("--host", HOST, "--port", str(self.port), "--log-level", "error", "--lifespan", "on"),
        ]
        self._process: subprocess.Popen[bytes] | None = None
        self._api_url_before: str | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the server (not waiting for it) and point this process's Prefect at it."""
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
        # What Prefect's own ephemeral server is started with (SubprocessASGIServer).
        env.update(PREFECT_UI_ENABLED="0", PREFECT__SERVER_EPHEMERAL="1")
        env.update(PREFECT__SERVER_FINAL="1", PREFECT_HOME=str(self.home))
        self.home.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped as a group; a Ctrl-C is the run's to handle
                preexec_fn=_dies_with_parent(),
            )
        self._api_url_before = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = self.api_url

    def wait(self) -> None:
        """Until the server answers; ServerError, in one line, when it cannot."""
        assert self._process is not None, "start() first"
        what = "Prefect's server for this run"
        wait_until_healthy(
            self._process, self.api_url, self.start_timeout_s, self.log_path, what, 0.05
        )

    def stop(self) -> None:
        """Stop the server; PREFECT_API_URL is again what it was before `start`."""
        terminate(self._process)
        if self._process is not None:
            if self._api_url_before is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = self._api_url_before
        self._process = None
