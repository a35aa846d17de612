"""The warehouse on DuckLake (SQLite catalog, Parquet data in tmp_path): the same pipeline gives
the same warehouse as the DuckDB file, loads nothing twice, and travels back in time."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import discovery, parsing, pipeline, reexport, runs
from flows.config import Config
from tests.conftest import Workspace, csv_text
from tests.reliability.test_crash import STATE_QUERIES
from warehouse import lake
from warehouse.db import Warehouse, WarehouseLocked, migrate, reader, target
from warehouse.lake import Lake, LakeUnavailable

AS_OF = date(2026, 11, 30)
WEEK_1 = [
    "2026-11-16T07:00:00,Back Extension,10,0,kg,,working",
    "2026-11-16T07:03:00,Back Extension,10,0,kg,,working",
    "2026-11-16T07:10:00,Bench Press (Barbell),8,60,kg,8,working",
]
WEEK_2 = [
    "2026-11-19T07:00:00,Back Extension,11,0,kg,,working",
    "2026-11-19T07:03:00,Back Extension,11,0,kg,,working",
    "2026-11-19T07:10:00,Bench Press (Barbell),ten,60,kg,8,working",
]


def small_inbox(workspace: Workspace) -> None:
    """An overlapping export with an edit and a reject, a copy under another athlete, and a
    file that fails as a whole: every path through the loader, in four files."""
    workspace.write("a1/export-1.csv", csv_text(*WEEK_1))
    edited = [WEEK_1[0].replace(",10,0,", ",12,0,"), *WEEK_1[1:], *WEEK_2]
    workspace.write("a1/export-2.csv", csv_text(*edited))
    workspace.write("b2/export-1.csv", csv_text(*WEEK_1))
    (workspace.inbox / "b2" / "broken.bin").write_bytes(b"\x00\x01garbage" * 64)


@pytest.fixture(autouse=True)
def _detach_lakes() -> Iterator[None]:
    yield
    lake.close_writers()


def lake_config(workspace: Workspace, **overrides: Any) -> Config:
    return workspace.config(
        warehouse=f"ducklake:sqlite:{workspace.root / 'catalog.sqlite'}",
        data_path=str(workspace.root / "lake"),
        **overrides,
    )


def run(config: Config, as_of: date | None = AS_OF) -> runs.RunSummary:
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", as_of, skipped=skipped)


def state(where: Warehouse) -> dict[str, list[Any]]:
    with reader(where) as con:
        return {name: con.execute(sql).fetchall() for name, sql in STATE_QUERIES.items()}


def inlined_rows(where: Warehouse) -> int:
    """Rows DuckLake keeps in its catalog rather than in Parquet (small commits)."""
    metadata = "__ducklake_metadata_lake"
    with reader(where) as con:
        tables = con.execute(f"SELECT table_name FROM {metadata}.ducklake_inlined_data_tables")
        counts = [
            con.execute(f'SELECT count(*) FROM {metadata}."{name}"').fetchone()
            for (name,) in tables.fetchall()
        ]
    return sum(count[0] for count in counts if count)


def test_the_lake_holds_what_the_file_holds_and_loads_nothing_twice(
    workspace: Workspace,
) -> None:
    small_inbox(workspace)
    file_db = workspace.root / "file" / "warehouse.duckdb"
    file_run = run(workspace.config(db=file_db))
    config = lake_config(workspace)
    first = run(config)
    where = target(config.settings)
    assert isinstance(where, Lake)
    assert (first.total("loaded"), first.total("revised"), first.count("failed")) == (
        file_run.total("loaded"),
        file_run.total("revised"),
        file_run.count("failed"),
    )
    assert first.total("loaded") > 0 and first.lake_snapshot is not None
    # The lake keeps no snapshot copy: nothing is written beside the working database.
    assert not workspace.snapshot.exists()
    lake_state, file_state = state(where), state(file_db)
    for name in STATE_QUERIES:
        assert lake_state[name] == file_state[name], name
    for name in ("sets", "set_revisions", "rejects", "v_current_flags"):
        assert lake_state[name], f"the inbox should exercise {name}"

    again = run(config, as_of=date(2026, 12, 1))  # a new date: the rules run, nothing loads
    assert (again.total("loaded"), again.total("revised"), again.rules_ran) == (0, 0, True)
    assert state(where)["sets"] == file_state["sets"]
    parquet = list(Path(workspace.root / "lake").rglob("*.parquet"))
    assert any(path.parent.name == "sets" for path in parquet)
    assert inlined_rows(where) == 0  # every row is in Parquet, none in the catalog


def test_an_analyst_reads_an_earlier_snapshot_and_writes_nothing(workspace: Workspace) -> None:
    config = lake_config(workspace)
    workspace.write("a1/week-1.csv", csv_text("2026-11-16T07:00:00,Back Extension,10,0,kg,,"))
    before = run(config)
    workspace.write("a1/week-2.csv", csv_text("2026-11-19T07:00:00,Back Extension,11,0,kg,,"))
    after = run(config)
    assert before.lake_snapshot is not None and after.lake_snapshot is not None
    assert after.lake_snapshot > before.lake_snapshot
    where = target(config.settings)
    count = "SELECT count(*), max(reps) FROM sets"
    with reader(where) as con:
        assert con.execute(count).fetchone() == (2, 11)
        moment = con.execute(
            "SELECT snapshot_time FROM lake.snapshots() WHERE snapshot_id = ?",
            [before.lake_snapshot],
        ).fetchone()
    assert moment is not None
    for at in (before.lake_snapshot, moment[0]):
        with reader(where, at=at) as con:
            assert con.execute(count).fetchone() == (1, 10)
            assert con.execute("SELECT count(*) FROM v_sessions").fetchone() == (1,)
    with reader(where) as con, pytest.raises(duckdb.Error, match="read-only"):
        con.execute("DELETE FROM sets")


def test_one_writer_per_lake(workspace: Workspace) -> None:
    config = lake_config(workspace, lock_timeout_s=0.2)
    where = target(config.settings)
    workspace.write("a1/week-1.csv", csv_text("2026-11-16T07:00:00,Back Extension,10,0,kg,,"))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom warehouse.lock import run_lock\nfrom warehouse.lake import Lake\n"
            f"with run_lock(Lake('sqlite', {where.catalog!r})):\n"
            "    print('held', flush=True)\n    sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(WarehouseLocked, match=r"PID \d+\) is writing ducklake:sqlite:"):
            run(config)
    finally:
        holder.communicate("")
    assert run(config).total("loaded") == 1


def test_no_constraint_index_or_sequence_in_the_schema() -> None:
    """DuckLake has none, so the SQL must not rely on any (deduplication is an anti-join)."""
    con = duckdb.connect()
    try:
        migrate(con)
        constraints = con.execute(
            "SELECT table_name, constraint_type FROM duckdb_constraints() "
            "WHERE constraint_type <> 'NOT NULL'"
        ).fetchall()
        indexes = con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()
        sequences = con.execute("SELECT sequence_name FROM duckdb_sequences()").fetchall()
    finally:
        con.close()
    assert (constraints, indexes, sequences) == ([], [], [])


def test_the_lake_has_the_file_schema(workspace: Workspace) -> None:
    columns = (
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = current_database() ORDER BY ALL"
    )
    comments = (
        "SELECT table_name, comment FROM duckdb_tables() "
        "WHERE database_name = current_database() "
        "UNION ALL SELECT view_name, comment FROM duckdb_views() "
        "WHERE database_name = current_database() AND NOT internal ORDER BY ALL"
    )
    config = lake_config(workspace)
    runs.prepare(target(config.settings), config, 0)
    runs.prepare(workspace.db, config, 0)
    with reader(target(config.settings)) as lake_con, reader(workspace.db) as file_con:
        assert lake_con.execute(columns).fetchall() == file_con.execute(columns).fetchall()
        assert lake_con.execute(comments).fetchall() == file_con.execute(comments).fetchall()
        migrations = "SELECT version, name FROM schema_migrations ORDER BY version"
        assert lake_con.execute(migrations).fetchall() == file_con.execute(migrations).fetchall()


def test_an_extension_that_cannot_load_is_one_clear_error(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(lake.CATALOG_EXTENSIONS, "sqlite", "repflow_no_such_extension")
    config = lake_config(workspace)
    with pytest.raises(LakeUnavailable) as raised:
        run(config)
    message = str(raised.value)
    assert "repflow_no_such_extension extension cannot be loaded" in message
    assert "repflow[lake]" in message and "\n" not in message


def test_a_reexport_is_looked_up_in_the_lake_and_stores_what_a_full_read_stores(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_inbox(workspace)
    file_db = workspace.root / "file" / "warehouse.duckdb"
    run(workspace.config(db=file_db))  # files this small are read in full
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    found = []

    def read_known(*args: Any) -> reexport.Reexport | None:
        result = reexport.read_known(*args)
        found.append(0 if result is None else result.known)
        return result

    monkeypatch.setattr(parsing, "read_known", read_known)
    # A batch's files are parsed before any of them is stored: export-2 finds export-1's rows
    # stored only when export-1 was stored in a batch before its own.
    config = lake_config(workspace, batch_files=1)
    run(config)
    where = target(config.settings)
    # Only export-2 found stored rows to look up: the two of export-1 it repeats as they were.
    assert found == [2]
    lake_state, file_state = state(where), state(file_db)
    for name in STATE_QUERIES:
        assert lake_state[name] == file_state[name], name
