"""Every table, view and column is documented, and docs/warehouse.md says what the schema says."""

from __future__ import annotations

import duckdb

from tests.conftest import ROOT
from warehouse.db import migrate
from warehouse.dictionary import render


def test_every_table_view_and_column_has_a_comment() -> None:
    con = duckdb.connect()
    migrate(con)
    undocumented = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE coalesce(comment, '') = '' AND NOT internal"
    ).fetchall()
    objects = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE coalesce(comment, '') = '' UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND coalesce(comment, '') = ''"
    ).fetchall()
    con.close()
    assert undocumented == [] and objects == []


def test_data_dictionary_is_current() -> None:
    written = (ROOT / "docs" / "warehouse.md").read_text()
    assert written == render(), "run: python -m warehouse.dictionary > docs/warehouse.md"


def test_migrations_are_numbered_and_recorded_once() -> None:
    con = duckdb.connect()
    first = migrate(con)
    again = migrate(con)
    rows = con.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
    versions = [row[0] for row in rows]
    con.close()
    assert first == versions == list(range(1, len(versions) + 1)) and again == []
