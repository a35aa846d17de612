"""The `repflow` command line, one module per command group: loading (`run`, `ingest`,
`reload`), reading (`flags`, `status`, `report`), shell (`sql`), exporting (`export`) and
serving (`serve`); what they share is in flows.cli.common.

Only `run` and `serve` start Prefect; every other command is plain Python, so it starts
in a fraction of a second. Exit codes: 0 fine, 1 a file failed or the warehouse is held,
2 bad usage or bad config.
"""

from __future__ import annotations

from flows.cli import exporting, loading, reading, serving, shell
from flows.cli.common import app

# Importing each registers its commands.
COMMAND_GROUPS = (loading, reading, shell, exporting, serving)


def main() -> None:
    app()


__all__ = ["COMMAND_GROUPS", "app", "main"]
