"""Every query in docs/queries.md runs on the sample warehouse and returns the columns it
documents, with rows."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from tests.conftest import ROOT

QUERIES = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
DOCUMENTED = re.findall(
    r"^Columns: ([^\n]+)\n\n```sql\n(.*?)```", QUERIES, re.MULTILINE | re.DOTALL
)


def test_every_sql_block_documents_its_columns() -> None:
    assert len(DOCUMENTED) == QUERIES.count("```sql") >= 6


@pytest.mark.parametrize(
    ("columns", "sql"), DOCUMENTED, ids=[f"query-{n + 1}" for n in range(len(DOCUMENTED))]
)
def test_example_query_returns_its_documented_columns(
    sample_snapshot: Path, columns: str, sql: str
) -> None:
    con = duckdb.connect(str(sample_snapshot), read_only=True)
    try:
        result = con.execute(sql)
        names = [column[0] for column in result.description]
        rows = result.fetchall()
    finally:
        con.close()
    assert names == re.findall(r"`(\w+)`", columns)
    assert rows, "the query returns no rows on the sample data"
