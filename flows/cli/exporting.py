"""`repflow export`: every table and view of the analyst snapshot (or the lake) as files a BI
tool reads."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from flows.cli.common import ConfigOpt, DbOpt, WarehouseOpt, analyst_target, app, clean_errors, out
from warehouse.db import reader
from warehouse.export import export_parquet


class ExportFormat(StrEnum):
    parquet = "parquet"


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write the files into.")],
    format: Annotated[
        ExportFormat, typer.Option("--format", help="File format.")
    ] = ExportFormat.parquet,
    db: DbOpt = None,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Write every table and view of the analyst snapshot (or the lake) to FOLDER, one
    <name>.parquet each, for a BI tool (Power BI, Tableau, pandas)."""
    snapshot = analyst_target(db, config, warehouse)
    with clean_errors(), reader(snapshot) as con:
        written = export_parquet(con, folder)
    tables = sum(1 for item in written if item.kind == "table")
    out.print(
        f"wrote {tables} tables and {len(written) - tables} views to {folder} "
        f"({sum(item.rows for item in written):,} rows in all)",
        markup=False,
    )
