"""The `nightly` deployment, served on the cron from config (`repflow serve`).

Imported only after PREFECT_API_URL and PREFECT_HOME are set (flows/cli/serving.py), so
Prefect reads them when it starts. The deployment here and prefect.yaml (written from the same
config by flows/deployment.py) describe the same thing: flow `nightly`, deployment `nightly`,
the `[schedule]` cron and timezone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import EntrypointType
from prefect.schedules import Cron, Schedule
from pydantic import ValidationError

from flows.config import Config
from flows.deployment import DEPLOYMENT, DESCRIPTION
from flows.nightly import nightly
from schemas.config_files import ConfigError


def schedule(config: Config, settings_file: Path) -> Schedule:
    """The `[schedule]` cron and timezone as a Prefect schedule; a bad cron is a config error."""
    cron, timezone = config.settings.schedule.cron, config.settings.schedule.timezone
    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        reason = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(str(settings_file), "schedule.cron", reason) from None
    return Cron(cron, timezone=timezone)


def parameters(config: Config, flags: dict[str, Any]) -> dict[str, Any]:
    """The flow's parameters for every run: the folders `serve` was given, made absolute, so a
    run started from the UI or by `prefect deployment run` loads the same warehouse.

    Never the DuckLake `warehouse`: its connection string may hold a password, and Prefect
    stores the parameters and shows them in its UI. The served runs read it from this
    process's environment (REPFLOW_WAREHOUSE) or repflow.toml, which they inherit."""
    settings = config.settings
    chosen = {"inbox": settings.inbox.resolve(), "db": settings.db.resolve()}
    if flags.get("config") is not None:
        chosen["config"] = Path(flags["config"]).resolve()
    return {"settings": {key: str(path) for key, path in chosen.items()}}


def serve(config: Config, flags: dict[str, Any], settings_file: Path) -> None:
    """Register the deployment and run its scheduled runs until SIGTERM or Ctrl-C.

    Stopping leaves the schedule active (`pause_on_shutdown=False`): a restart of the service
    must not silently switch the nightly run off. One run at a time (`limit=1`); the run lock
    (warehouse/lock.py) also keeps it apart from a `repflow run` started by hand."""
    nightly.serve(
        name=DEPLOYMENT,
        schedules=[schedule(config, settings_file)],
        parameters=parameters(config, flags),
        description=DESCRIPTION,
        pause_on_shutdown=False,
        print_starting_message=False,
        limit=1,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
