"""The nightly deployment as data: what `repflow serve` registers, and the prefect.yaml for a
work pool written from the same `[schedule]` in repflow.toml, so the schedule has one source.

No Prefect import here: `repflow prefect-yaml` only writes text.
"""

from __future__ import annotations

import json
from importlib.metadata import version

from flows.config import Config

DEPLOYMENT = "nightly"
ENTRYPOINT = "flows/nightly.py:nightly"
DESCRIPTION = "Load new files from the inbox, evaluate the rules, publish the snapshot."
WORK_POOL = "repflow"


def prefect_yaml(config: Config, source: str) -> str:
    """prefect.yaml for `prefect deploy`, with `[schedule]` from `config` (read from `source`,
    named in the file's header). Strings are written as JSON, which YAML reads as they are."""
    schedule = config.settings.schedule
    return f"""\
# The nightly deployment for a Prefect work pool: the same flow, name and schedule that
# `repflow serve` serves. Written by `repflow prefect-yaml` from {source}:
# edit [schedule] there and write this file again, never by hand.
#
#   repflow prefect-yaml --out prefect.yaml    # after any change to [schedule]
#   prefect work-pool create {WORK_POOL} --type process
#   prefect deploy --all                       # from this folder, with PREFECT_API_URL set
#   REPFLOW_HOME=$PWD prefect worker start --pool {WORK_POOL}
#
# The worker runs each flow run in REPFLOW_HOME (this checkout, or any folder holding the `flows`
# package on the worker's Python path), so relative settings (./inbox, ./warehouse.duckdb) are
# relative to it. Settings come from the worker's environment (REPFLOW_INBOX, REPFLOW_DB, ...)
# and config/repflow.toml, as for `repflow run`. docs/operations.md has the whole runbook.
name: repflow
prefect-version: {version("prefect")}

build: null
push: null
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{{{ $REPFLOW_HOME }}}}"

deployments:
  - name: {DEPLOYMENT}
    entrypoint: {ENTRYPOINT}
    description: {json.dumps(DESCRIPTION)}
    parameters: {{}}
    # One run at a time; the run lock (warehouse/lock.py) also keeps it apart from `repflow run`.
    concurrency_limit: 1
    schedules:
      - cron: {json.dumps(schedule.cron)}
        timezone: {json.dumps(schedule.timezone)}
        active: true
    work_pool:
      name: {WORK_POOL}
      work_queue_name: default
      job_variables: {{}}
"""
