"""The local server's supervision (flows/server.py), with a stand-in for `prefect server start`.

The stand-in is Python's http.server serving a folder that holds `api/health`, so GET
/api/health answers 200 like Prefect's; the real server is exercised in test_serve.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flows import server
from flows.server import HOST, LocalServer, ServerError, check_port_free, free_port, healthy


def stand_in(root: Path, port: int) -> list[str]:
    (root / "api").mkdir(parents=True, exist_ok=True)
    (root / "api" / "health").write_text("true")
    serve = [sys.executable, "-m", "http.server", "--bind", HOST, "--directory", str(root)]
    return [*serve, str(port)]


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerError, match=f"port {port} on {HOST} is in use"):
            check_port_free(port)
        with pytest.raises(ServerError, match="is in use"):
            LocalServer(Path("unused"), port, on_give_up=lambda: None).__enter__()


@pytest.mark.slow  # starts processes
def test_the_server_starts_answers_and_stops_with_its_children(tmp_path: Path) -> None:
    port = free_port()
    local = LocalServer(tmp_path / "home", port, lambda: None, command=stand_in(tmp_path, port))
    with local:
        assert healthy(local.api_url)
        pid = local.pid
        assert pid is not None and alive(pid)
    assert not healthy(local.api_url)
    assert not alive(pid)
    assert local.log_path == tmp_path / "home" / "server.log" and local.log_path.exists()


def ui_stand_in(root: Path, port: int) -> list[str]:
    """A stand-in that answers GET /ui-settings as Prefect does, from its environment."""
    script = (
        "import json, os, pathlib, sys\n"
        f"root = pathlib.Path({str(root)!r})\n"
        "(root / 'api').mkdir(parents=True, exist_ok=True)\n"
        "(root / 'api' / 'health').write_text('true')\n"
        "env = os.environ\n"
        "url = env.get('PREFECT_UI_API_URL') or env.get('PREFECT_SERVER_UI_API_URL')\n"
        "(root / 'ui-settings').write_text(json.dumps({'api_url': url}))\n"
        "sys.argv = ['http.server', '--bind', sys.argv[1], '--directory', str(root), sys.argv[2]]\n"
        "import runpy; runpy.run_module('http.server', run_name='__main__')\n"
    )
    return [sys.executable, "-c", script, HOST, str(port)]


@pytest.mark.slow  # starts processes
@pytest.mark.parametrize("own", [None, "https://prefect.example/api"])
def test_the_ui_is_pointed_at_the_port_the_server_listens_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: str | None
) -> None:
    import httpx

    for name in ("PREFECT_UI_API_URL", "PREFECT_SERVER_UI_API_URL"):
        monkeypatch.delenv(name, raising=False)
    if own is not None:  # an operator's own address (a reverse proxy) is kept
        monkeypatch.setenv("PREFECT_UI_API_URL", own)
    port = free_port()
    with LocalServer(tmp_path / "home", port, lambda: None, command=ui_stand_in(tmp_path, port)):
        answer = httpx.get(f"http://{HOST}:{port}/ui-settings", timeout=5).json()
    assert answer["api_url"] == (own or f"http://{HOST}:{port}/api")


@pytest.mark.slow  # starts processes
def test_a_dead_server_is_restarted_then_given_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "MAX_RESTARTS", 1)
    gave_up = threading.Event()
    port = free_port()
    local = LocalServer(tmp_path / "home", port, gave_up.set, command=stand_in(tmp_path, port))
    with local:
        first, first_up = local.pid, local.up_since
        assert first is not None
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: local.up_since > first_up)
        assert local.pid != first and healthy(local.api_url)
        assert local.restarts == 1 and local.error is None and not gave_up.is_set()
        second = local.pid
        assert second is not None
        os.kill(second, signal.SIGKILL)
        assert gave_up.wait(20)
        assert local.error is not None and "restarted 1 times" in local.error
        assert str(local.log_path) in local.error
    assert "restarting the Prefect server" in local.log_path.read_text()


@pytest.mark.slow  # starts processes
def test_a_server_that_exits_while_starting_names_its_exit_code(tmp_path: Path) -> None:
    quits = [sys.executable, "-c", "raise SystemExit(3)"]
    local = LocalServer(tmp_path, free_port(), lambda: None, command=quits)
    with pytest.raises(ServerError, match="exited with code 3 while starting"):
        local.__enter__()


@pytest.mark.slow  # starts processes
def test_a_server_that_never_answers_is_stopped_after_the_timeout(tmp_path: Path) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(60)"]
    local = LocalServer(tmp_path, free_port(), lambda: None, start_timeout_s=1, command=silent)
    with pytest.raises(ServerError, match=r"did not answer on \S+ within 1 s"):
        local.__enter__()
    assert local.pid is not None and not alive(local.pid)


@pytest.mark.slow  # starts processes
def no_api_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """PREFECT_API_URL unset for the test, and unset again after it: a run's server sets it, and
    a `delenv` of a variable that is not set would not undo that."""
    monkeypatch.setenv("PREFECT_API_URL", "")
    monkeypatch.delenv("PREFECT_API_URL")


def test_a_run_s_server_points_prefect_at_itself_answers_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_api_url(monkeypatch)
    port = free_port()
    run_server = server.RunServer(tmp_path / "home", port=port, command=stand_in(tmp_path, port))
    run_server.start()
    try:
        assert os.environ["PREFECT_API_URL"] == f"http://{HOST}:{port}/api"
        run_server.wait()
        assert healthy(run_server.api_url)
    finally:
        run_server.stop()
    assert not healthy(run_server.api_url)
    assert "PREFECT_API_URL" not in os.environ  # as before the run's server


def test_a_run_s_server_that_exits_while_starting_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_api_url(monkeypatch)
    quits = [sys.executable, "-c", "raise SystemExit(3)"]
    run_server = server.RunServer(tmp_path, command=quits)
    run_server.start()
    with pytest.raises(ServerError, match=r"exited with code 3 while starting; see .*server\.log"):
        run_server.wait()


@pytest.mark.slow  # starts processes
def test_a_run_s_server_dies_with_a_killed_run(tmp_path: Path) -> None:
    """A run killed with SIGKILL cannot stop its server: the server goes with it (Linux)."""
    port = free_port()
    script = (
        "import sys, time; from pathlib import Path; from flows import server\n"
        f"s = server.RunServer(Path({str(tmp_path)!r}), port={port}, "
        f"command={stand_in(tmp_path, port)!r})\n"
        "s.start(); s.wait(); print(s.pid, flush=True); time.sleep(60)\n"
    )
    run = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    child = int(run.stdout.readline())
    assert alive(child)
    run.kill()
    run.wait()
    assert wait_for(lambda: not healthy(f"http://{HOST}:{port}/api"))
    assert wait_for(lambda: not alive(child) or _zombie(child))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_a_run_starts_its_own_server_only_where_prefect_would_start_its_ephemeral_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.cli.loading import own_server

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    no_api_url(monkeypatch)
    assert isinstance(own_server(), server.RunServer)
    (tmp_path / "profiles.toml").write_text(
        'active = "ops"\n[profiles.ops]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n'
    )
    assert own_server() is None  # a profile's server
    (tmp_path / "profiles.toml").unlink()
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.internal:4200/api")
    assert own_server() is None
