"""The Prefect flow `nightly`: thin tasks around flows.pipeline, retries on I/O, a summary.

Every decision lives in flows.pipeline; this module only adds orchestration: tasks, retries,
and the run's markdown and table artifacts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import TaskRun
from prefect.states import State

from flows import pipeline, progress, summary
from flows.config import load

IO_RETRY_DELAYS = [1, 5]


def _retry_on_io(task: Any, task_run: TaskRun, state: State) -> bool:
    """Retry what can pass: an OSError (a file busy or briefly unreadable), nothing else."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


IO_RETRIES: dict[str, Any] = {
    "retries": len(IO_RETRY_DELAYS),
    "retry_delay_seconds": IO_RETRY_DELAYS,
    "retry_condition_fn": _retry_on_io,
}
fingerprint_task = task(name="fingerprint", cache_policy=NO_CACHE, **IO_RETRIES)(
    pipeline.fingerprint
)
parse_task = task(name="parse", cache_policy=NO_CACHE, **IO_RETRIES)(pipeline.parse)
store_task = task(name="store", cache_policy=NO_CACHE)(pipeline.store)
flag_task = task(name="flag", cache_policy=NO_CACHE)(pipeline.flag)
publish_task = task(name="publish", cache_policy=NO_CACHE, **IO_RETRIES)(pipeline.publish)


@flow(name="nightly", log_prints=False, validate_parameters=False)
def nightly(
    settings: dict[str, Any] | None = None, as_of: date | str | None = None
) -> pipeline.RunSummary:
    """Load every new file in the inbox, evaluate the rules, publish the analyst snapshot.

    `as_of` is a date, or YYYY-MM-DD as a deployment's run parameters carry it (the flow does
    not validate parameters, so nothing else converts it)."""
    if isinstance(as_of, str):
        as_of = date.fromisoformat(as_of)
    config = load(settings)
    files, skipped = pipeline.inbox_files(config)
    steps = pipeline.Steps(
        fingerprint=fingerprint_task,
        parse=parse_task,
        store=store_task,
        flag=flag_task,
        publish=publish_task,
    )
    result = pipeline.execute(
        config,
        files,
        "run",
        as_of or pipeline.today(config.settings.timezone),
        steps,
        progress=progress.ACTIVE.get(),
        skipped=skipped,
    )
    create_markdown_artifact(
        key="nightly-summary", markdown=summary.markdown(result), description="Run summary"
    )
    create_table_artifact(
        key="nightly-files", table=summary.file_rows(result), description="Files in this run"
    )
    return result
