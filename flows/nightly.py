"""The Prefect flow `nightly`: thin tasks around flows.pipeline, retries on I/O, a summary.

Every decision lives in flows.pipeline; this module only adds orchestration: tasks, retries,
the task runner (this process, or Dask: docs/scaling.md), and the run's artifacts.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import urlparse

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.context import FlowRunContext
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    temporary_settings,
)
from prefect.states import Failed, State
from prefect.task_runners import TaskRunner

from flows import batch_parse, discovery, loading, parsing, pipeline, progress, runs, summary
from flows.config import Config, load
from schemas.config_files import ConfigError
from schemas.set_row import RowContext
from schemas.settings import Settings
from sources.base import ReadHints
from warehouse.lake import redact, redact_error

IO_RETRY_DELAYS: list[float] = [1, 5]


def _retry_on_io(task: Any, task_run: TaskRun, state: State) -> bool:
    """Retry what can pass: an OSError (a file busy or briefly unreadable), nothing else."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


# The night's steps run in the flow's own process as plain calls: a task a file cost about 0.4 s
# of Prefect's bookkeeping each, and at 5,000 files flooded its event queue ("Subscription queue
# is full") and its database. Only a parse on a Dask worker is a task, which Dask needs: one a
# batch of files, not one a file.
parse_batch_task = task(
    name="parse",
    cache_policy=NO_CACHE,
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=_retry_on_io,
)(batch_parse.parse_batch_to_arrow)


@flow(name="nightly", log_prints=False, validate_parameters=False)
def nightly(
    settings: dict[str, Any] | None = None, as_of: date | str | None = None
) -> runs.RunSummary | State[Any]:
    """Load every new file in the inbox, evaluate the rules, publish the analyst snapshot.

    Leave the warehouse out of `settings`: a DuckLake's connection string may carry a password,
    and Prefect stores a run's parameters and shows them in its UI. The flow reads it from
    REPFLOW_WAREHOUSE or repflow.toml (`repflow run --warehouse` sets the variable for the run).

    `as_of` is a date, or YYYY-MM-DD as a deployment's run parameters carry it (the flow does
    not validate parameters, so nothing else converts it).

    A run that fails ends the flow run Failed with the error as its message, and the caller
    gets the error raised (the CLI says it in one line): returned as a state, it is not logged
    with a traceback as a raised one is."""
    try:
        return _nightly(settings, as_of)
    except Exception as exc:  # Prefect keeps its message: without a password
        redact_error(exc)
        return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
    except BaseException as exc:  # a stop (Ctrl-C, SIGTERM): Prefect cancels the run
        redact_error(exc)
        raise


def _nightly(settings: dict[str, Any] | None, as_of: date | str | None) -> runs.RunSummary:
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    config = load(settings)
    files, skipped = discovery.inbox_files(config)
    # The steps run as plain calls: a task run a file cost more than parsing a small file.
    steps = pipeline.Steps(parse_ahead=_parse_on_cluster(config) if _on_dask() else None)
    # Each file and the summary go to the flow run's log at INFO, whatever the CLI shows.
    logger = get_run_logger()
    logged = progress.LogLines(lambda line: logger.info(redact(line)))
    shown = progress.ACTIVE.get()
    try:
        result = pipeline.execute(
            config,
            files,
            "run",
            as_of or runs.today(config.settings.timezone),
            steps,
            progress=logged if shown is None else progress.Both(shown, logged),
            skipped=skipped,
        )
    except Exception as exc:  # the lock held, a full disk: the artifact says what stopped it
        create_markdown_artifact(
            key="nightly-summary",
            markdown=redact(summary.failed_markdown(exc)),
            description="Run summary",
        )
        raise
    for line in summary.lines(result):
        logger.info(redact(line))
    create_markdown_artifact(
        key="nightly-summary",
        markdown=redact(summary.markdown(result)),
        description="Run summary",
    )
    create_table_artifact(
        key="nightly-files", table=summary.file_rows(result), description="Files in this run"
    )
    return result


def _on_dask() -> bool:
    """Whether this flow run has a Dask task runner: `run_nightly` gives it one when the settings
    ask for Dask. A served or work-pool run of `nightly` has Prefect's default runner, and then
    parses files in turn whatever the settings say (docs/configuration.md)."""
    if "prefect_dask" not in sys.modules:  # not imported: no Dask runner (and no import cost)
        return False
    from prefect_dask import DaskTaskRunner

    context = FlowRunContext.get()
    return context is not None and isinstance(context.task_runner, DaskTaskRunner)


# Batches queued per worker thread: enough that no worker waits for the writer, few enough that
# the parsed batches held at once stay a handful however large the inbox.
PARSES_PER_SLOT = 2


def _parse_on_cluster(config: Config) -> loading.ParseAhead:
    """Parses of batches submitted to the flow's task runner (Dask), running ahead of the single
    writer."""
    runner = FlowRunContext.get().task_runner  # type: ignore[union-attr]
    window = PARSES_PER_SLOT * _slots(runner, config.settings)
    context = config.settings.row_context()

    def parse_ahead(
        batches: Iterator[list[loading.Item]], _: Config
    ) -> Iterator[tuple[list[loading.Item], loading.Pending | None]]:
        return loading.submit_ahead(batches, lambda batch: _submit(batch, context, config), window)

    return parse_ahead


def _slots(runner: TaskRunner[Any], settings: Settings) -> int:
    """How many parses the cluster runs at once: its worker threads, as the scheduler says."""
    from prefect_dask import DaskTaskRunner

    if isinstance(runner, DaskTaskRunner):
        return max(sum(runner.client.nthreads().values()), 1)
    return settings.dask_workers or os.cpu_count() or 1


def _submit(batch: list[loading.Item], context: RowContext, config: Config) -> loading.Pending:
    # Absolute paths: a worker's current folder (or host) is not this process's. The worker
    # reads each file itself, and parses it only if its bytes are those this process hashed.
    # The hints are looked up here, where the warehouse is: as it stands when the batch is
    # submitted (the batch's own earlier files are the worker's to add).
    hints: dict[str | None, ReadHints] = {}
    files = []
    for item in loading.new_items(batch):
        assert item.info is not None
        athlete = item.found.athlete_id
        if athlete not in hints:
            hints[athlete] = parsing.hints_for(config, athlete)
        files.append((str(item.found.path.absolute()), athlete, hints[athlete], item.info.sha256))
    future = parse_batch_task.submit(files, context)

    def arrived() -> list[parsing.ParsedFile | str]:
        return [each if isinstance(each, str) else each.frames() for each in future.result()]

    return arrived


def task_runner(settings: Settings) -> TaskRunner[Any] | None:
    """The Dask runner the settings ask for: an existing cluster, or a LocalCluster of worker
    processes that ends with the run. None: Prefect's default, in this process."""
    if settings.runner == "local":
        if settings.dask_address:
            raise ConfigError(
                "dask_address",
                "",
                "a Dask scheduler is set but the runner is local: add --runner dask",
            )
        return None
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": settings.dask_workers or os.cpu_count() or 1,
            "processes": True,
            "threads_per_worker": 1,
            "dashboard_address": None,
        }
    )


def run_nightly(
    settings: dict[str, Any] | None = None, as_of: date | None = None
) -> runs.RunSummary:
    """The nightly flow on the task runner the settings choose. A warehouse in `settings` reaches
    the flow through the environment, not its parameters (see `secrets_in_environment`)."""
    chosen = load(settings).settings
    runner = task_runner(chosen)
    with secrets_in_environment(settings) as parameters:
        if runner is None:
            return _summary(nightly(settings=parameters, as_of=as_of))
        if chosen.dask_address:
            _api_reachable_from(chosen.dask_address)
            _reach(chosen.dask_address)
        with _api_for_workers():
            return _summary(
                nightly.with_options(task_runner=runner)(settings=parameters, as_of=as_of)
            )


def _summary(result: runs.RunSummary | State[Any]) -> runs.RunSummary:
    """What a call of the flow returns: its summary. A run that failed raised its error."""
    if isinstance(result, State):
        raise RuntimeError(f"the flow ended {result.type.value}: {result.message}")
    return result


# Settings that may hold a password, and the environment variable the flow reads each from.
SECRET_SETTINGS = {"warehouse": "REPFLOW_WAREHOUSE"}


@contextmanager
def secrets_in_environment(settings: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """`settings` without the ones that may hold a password, for the flow's parameters (Prefect
    stores them in its database and shows them in its UI); meanwhile those are in this
    process's environment, where the flow's settings read them (a flag still wins over the
    environment and repflow.toml, because the variable holds the flag). Restored afterwards."""
    parameters = dict(settings or {})
    saved: dict[str, str | None] = {}
    try:
        for key, variable in SECRET_SETTINGS.items():
            value = parameters.pop(key, None)
            if value is not None:
                saved[variable] = os.environ.get(variable)
                os.environ[variable] = str(value)
        yield parameters
    finally:
        for variable, previous in saved.items():
            if previous is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = previous


def _api_reachable_from(address: str) -> None:
    """Workers on another host cannot reach an API on this host's loopback: the temporary one
    a run starts (flows/server.RunServer), or one the operator set there."""
    api = PREFECT_API_URL.value()
    host = urlparse(api).hostname if api else None
    if (host is None or _loopback(f"tcp://{host}:0")) and not _loopback(address):
        raise ConfigError(
            "dask_address",
            "",
            f"workers at {address} cannot reach this process's temporary Prefect API; "
            "set PREFECT_API_URL to a Prefect server they can reach",
        )


@contextmanager
def _api_for_workers() -> Iterator[None]:
    """Task runs on Dask workers report to Prefect's API. Without PREFECT_API_URL each process
    would start an ephemeral API of its own (and the workers' time out), so start one here and
    hand its address to the workers with the task runs' context."""
    if PREFECT_API_URL.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield


def _reach(address: str) -> None:
    """Fail in one line, before the flow starts, when no scheduler answers at `address`."""
    from distributed import Client

    try:
        with Client(address, timeout=SCHEDULER_TIMEOUT_S):
            pass
    except OSError as exc:
        raise OSError(f"no Dask scheduler answers at {address}: {exc}") from None


SCHEDULER_TIMEOUT_S = 20


def _loopback(address: str) -> bool:
    host = address.split("://", 1)[1].rsplit(":", 1)[0]
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def drain() -> None:
    """Send Prefect's queued logs and events now, while the run's own server is up: it stops
    before this process exits, where Prefect would send them (flows/server.RunServer)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=5)
    EventsWorker.drain_all(timeout=5)
