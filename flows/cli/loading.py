"""The commands that write the warehouse: `run` (the nightly flow, once), `ingest` and
`reload` (without Prefect)."""

from __future__ import annotations

import os
import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from flows import discovery, pipeline, progress, runs, summary
from flows.cli.common import (
    AsOfOpt,
    ConfigOpt,
    DataPathOpt,
    DbOpt,
    Format,
    InboxOpt,
    QuietOpt,
    WarehouseOpt,
    app,
    clean_errors,
    err,
    fail,
    load_config,
    out,
    parse_as_of,
    prepare_prefect,
    run_failed,
)
from flows.cli.reading import print_flags
from flows.printable import printable
from flows.server import RunServer
from schemas.config_files import ConfigError
from sources.csv_text import UnreadableFile
from warehouse.db import WarehouseLocked, WarehouseMissing
from warehouse.lake import LakeUnavailable, redact


@app.command()
def run(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    as_of: AsOfOpt = None,
    runner: Annotated[
        str | None,
        typer.Option("--runner", help="Where files are parsed: local or dask [local]."),
    ] = None,
    dask_workers: Annotated[
        int | None,
        typer.Option("--dask-workers", help="Worker processes of a local Dask cluster [cores]."),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="An existing Dask scheduler, tcp://host:port."),
    ] = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Run the nightly flow once: load new files, evaluate the rules, publish the snapshot."""
    day = parse_as_of(as_of)
    flags = {
        "inbox": inbox,
        "db": db,
        "config": config,
        "runner": runner,
        "dask_workers": dask_workers,
        "dask_address": dask_address,
        "warehouse": warehouse,
        "data_path": data_path,
    }
    loaded = load_config(catalog=True, **flags)
    # Take the writer's lock before Prefect starts: a second run fails in a second, not after
    # Prefect's start-up, and with one line rather than a failed flow's log.
    with clean_errors(), pipeline.writer_lock(loaded, "run"), ExitStack() as stack:
        prepare_prefect(loaded)
        server = own_server()
        if server is not None:  # started before Prefect is imported, so the two overlap
            server.start()
            stack.callback(server.stop)
        # Only the commands that run the flow import Prefect.
        from flows.nightly import drain, run_nightly

        if server is not None:
            server.wait()
            stack.callback(drain)  # before the server stops (callbacks run last first)
        try:
            with progress.renderer(err, quiet):  # the flow finds it as progress.ACTIVE
                result = run_nightly(
                    settings={k: v for k, v in flags.items() if v is not None}, as_of=day
                )
        except (
            ConfigError,
            LakeUnavailable,
            WarehouseLocked,
            WarehouseMissing,
            UnreadableFile,
            OSError,
        ):
            raise
        except Exception as exc:  # the run must end in a message, never a traceback
            raise fail(redact(f"the run failed: {type(exc).__name__}: {exc}"), 1) from None
    _report(result)
    if result.flags is not None and result.flags.height:
        # A DSN may hold a password: redacted before quoting, which would hide it from redact.
        where = [
            f"--{name} {shlex.quote(redact(str(flags[name])))}" for name in WHERE if flags[name]
        ]
        print_flags(
            result.flags,
            Format.table,
            shown=RUN_FLAGS_SHOWN,
            rest=" ".join(["repflow flags", *where]),
        )
    raise typer.Exit(result.exit_code)


def own_server() -> RunServer | None:
    """The server this run starts for Prefect, where Prefect would start its ephemeral one: no
    API URL in the environment or in Prefect's profiles."""
    home = Path(os.environ["PREFECT_HOME"])
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    if os.environ.get("PREFECT_API_URL") or (
        profiles.is_file() and "PREFECT_API_URL" in profiles.read_text(errors="replace")
    ):
        return None
    return RunServer(home)


@app.command()
def ingest(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files to load now; a folder is read like an inbox.", show_default=False
        ),
    ],
    athlete: Annotated[
        str | None,
        typer.Option("--athlete", help="Owner of files that name no athlete themselves."),
    ] = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Load these files now, without Prefect; the rules run with the next `repflow run`. A
    folder is read like an inbox: its athlete folders, or with --athlete every file in it."""
    loaded = load_config(
        catalog=True, db=db, config=config, warehouse=warehouse, data_path=data_path
    )
    with clean_errors(), progress.renderer(err, quiet) as observer:
        try:
            found, skipped = discovery.named_files(files, athlete, loaded)
        except discovery.UsageError as exc:
            raise fail(str(exc), 2) from None
        with run_failed():
            result = pipeline.execute(
                loaded, found, "ingest", None, progress=observer, skipped=skipped
            )
    _report(result)
    raise typer.Exit(result.exit_code)


@app.command()
def reload(
    inbox: InboxOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
    data_path: DataPathOpt = None,
    as_of: AsOfOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Re-read the stored files that an older version of their reader read (after an upgrade
    that fixed a reader), from their copies in the inbox; changed sets are corrections, and the
    rules run again when a set changed. Without Prefect."""
    loaded = load_config(
        catalog=True, inbox=inbox, db=db, config=config, warehouse=warehouse, data_path=data_path
    )
    day = parse_as_of(as_of) or runs.today(loaded.settings.timezone)
    with clean_errors(), progress.renderer(err, quiet) as observer, run_failed():
        result = pipeline.reload(loaded, day, progress=observer)
    _report(result)
    if not result.files and not result.skipped_paths:
        out.print("nothing to re-read: every stored file was read by its current reader")
    raise typer.Exit(1 if result.skipped_paths else result.exit_code)


def _report(result: runs.RunSummary) -> None:
    for line in summary.lines(result):
        out.print(printable(line), markup=False, soft_wrap=True)  # one line, however long


# A run's own output lists this many of its flags: a gym's nightly log gets the counts by
# action and a pointer to `repflow flags`, not a line per member and exercise.
RUN_FLAGS_SHOWN = 20


# The options of `run` that say which warehouse `flags` should read.
WHERE = ("db", "config", "warehouse")
