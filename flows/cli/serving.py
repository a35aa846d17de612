"""`repflow serve`: the nightly flow on its cron, on a Prefect server, until stopped."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import ExitStack, suppress
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from flows.cli.common import (
    ConfigOpt,
    DbOpt,
    InboxOpt,
    app,
    clean_errors,
    err,
    fail,
    load_config,
    out,
    prepare_prefect,
)
from flows.config import config_dir
from flows.deployment import DEPLOYMENT, prefect_yaml
from flows.server import LocalServer, healthy
from schemas.config_files import ConfigError
from warehouse.lake import redact

# Set once a stop is asked for (SIGTERM or Ctrl-C). The KeyboardInterrupt a stop raises can land
# in code that wraps it (pydantic building a schema re-raises it as a SchemaError); that is
# still a stop.
_stop_requested = threading.Event()


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    _stop_requested.set()
    raise KeyboardInterrupt  # unwinds like Ctrl-C, so the local server is stopped on the way out


def _give_up() -> None:
    """The local server is gone for good: stop the runner as SIGTERM would, and exit 1."""
    os.kill(os.getpid(), signal.SIGTERM)


@app.command()
def serve(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port of the local Prefect server when PREFECT_API_URL is not set "
            "(0: any free port); default: the schedule.server_port setting, 4200.",
        ),
    ] = None,
) -> None:
    """Serve the nightly flow on the cron from config until SIGTERM or Ctrl-C.

    Uses the Prefect server at PREFECT_API_URL, or starts and watches a local one."""
    flags = {"inbox": inbox, "db": db, "config": config}
    loaded = load_config(catalog=True, **flags)
    settings_file = config_dir(config) / "repflow.toml"
    with clean_errors():  # an unwritable folder for Prefect's state is one line, not a traceback
        prepare_prefect(loaded, console_level="INFO")  # the runs' lines in the journal
    _stop_requested.clear()
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)  # Ctrl-C: the same stop, flagged the same way
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    from flows import serve as serving  # imports Prefect: after its settings are in place

    schedule = loaded.settings.schedule
    server: LocalServer | None = None
    served = False
    try:
        with clean_errors(), ExitStack() as stack:
            serving.schedule(loaded, settings_file)  # a bad cron fails before a server starts
            api_url = get_current_settings().api.url
            if api_url is not None and not healthy(api_url):
                raise fail(f"no Prefect server answers at PREFECT_API_URL {api_url}", 1)
            if api_url is None:
                home = Path(os.environ["PREFECT_HOME"])
                chosen = schedule.server_port if port is None else port
                server = stack.enter_context(LocalServer(home, chosen, on_give_up=_give_up))
                api_url = os.environ["PREFECT_API_URL"] = server.api_url
                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: api_url}))
                err.print(f"repflow: started a Prefect server, log {server.log_path}", markup=False)
            out.print(
                f"serving deployment nightly/{DEPLOYMENT} on cron {schedule.cron!r} "
                f"({schedule.timezone}) against {api_url}; stop with Ctrl-C or SIGTERM",
                markup=False,
            )
            served = True
            try:
                serving.serve(loaded, flags, settings_file)
            except (ConfigError, OSError):
                raise
            except Exception as exc:  # after the server died the runner's error is noise
                if (server is None or server.error is None) and not _stop_requested.is_set():
                    raise fail(redact(f"serving failed: {type(exc).__name__}: {exc}"), 1) from None
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, or Prefect's own exit on SIGTERM
        pass
    except Exception:  # a stop that landed in code wrapping it, say while the server started
        if not _stop_requested.is_set():
            raise
    if server is not None and server.error is not None:
        raise fail(server.error, 1)
    if served:
        out.print("stopped serving; the schedule stays active", markup=False)


@app.command("prefect-yaml")
def write_prefect_yaml(
    config: ConfigOpt = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write to this file (prefect.yaml) instead of stdout."),
    ] = None,
) -> None:
    """Write prefect.yaml for a work pool, its schedule from [schedule] in repflow.toml."""
    loaded = load_config(config=config)
    settings_file = config_dir(config) / "repflow.toml"
    with suppress(ValueError):  # shown relative to here when it is below here
        settings_file = settings_file.resolve().relative_to(Path.cwd().resolve())
    text = prefect_yaml(loaded, str(settings_file))
    if out_file is None:
        sys.stdout.write(text)
        return
    with clean_errors():
        out_file.write_text(text, encoding="utf-8")
    out.print(f"wrote {out_file} (cron {loaded.settings.schedule.cron!r})", markup=False)
