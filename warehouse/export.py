"""Every table and view of the warehouse as a Parquet file, for a BI tool (`repflow export`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.lake import quote

OBJECTS = """
SELECT table_name AS name, 'table' AS kind FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = current_schema()
UNION ALL
SELECT view_name, 'view' FROM duckdb_views()
WHERE database_name = current_database() AND schema_name = current_schema() AND NOT internal
ORDER BY kind, name
"""


@dataclass(frozen=True)
class Exported:
    name: str
    kind: str  # table or view
    rows: int
    path: Path


def export_parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> list[Exported]:
    """Write each table and view to `folder`/<name>.parquet. Each file is written beside its
    place and renamed into it, so a BI tool reading the folder never sees half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, kind in con.execute(OBJECTS).fetchall():
        path = folder / f"{name}.parquet"
        partial = path.with_name(path.name + ".partial")
        try:
            con.execute(
                f'COPY (SELECT * FROM "{name}") TO {quote(str(partial))} '
                "(FORMAT parquet, COMPRESSION zstd)"
            )
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, path)
        rows = con.execute(f"SELECT count(*) FROM {quote(str(path))}").fetchone()
        written.append(Exported(name, kind, int(rows[0]) if rows else 0, path))
    return written
