"""`repflow sql` without a query, `repflow report`'s errors, and how flags are printed, as a user
sees them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner, Result

from flows import cli
from flows.cli import common, loading, reading
from tests.conftest import repflow


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def fake_duckdb(folder: Path) -> Path:
    """A `duckdb` on PATH that records the arguments it was started with."""
    folder.mkdir()
    shell = folder / "duckdb"
    shell.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {folder / "argv"}\n')
    shell.chmod(0o755)
    return folder


def test_sql_without_a_query_opens_the_duckdb_shell_on_the_snapshot_read_only(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    bin_dir = fake_duckdb(tmp_path / "bin")
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow(
        "sql", "--db", str(db), cwd=tmp_path, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (bin_dir / "argv").read_text().splitlines() == ["-readonly", str(sample_snapshot)]


def test_sql_without_a_query_or_a_duckdb_shell_says_how_and_exits_2(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow("sql", "--db", str(db), cwd=tmp_path, env={"PATH": str(empty)})
    no_traceback(result)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert "\n" not in message
    assert "no duckdb shell on PATH" in message and 'repflow sql "SELECT' in message
    pip = Path(sys.executable).with_name("pip")  # this virtualenv's, where repflow looks next
    assert f"`{pip} install duckdb-cli=={duckdb.__version__}`" in message


def test_sql_shell_before_any_run_says_so_and_does_not_start_the_shell(tmp_path: Path) -> None:
    bin_dir = fake_duckdb(tmp_path / "bin")
    result = repflow("sql", cwd=tmp_path, env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    no_traceback(result)
    assert result.returncode == 1 and "does not exist yet" in result.stderr
    assert not (bin_dir / "argv").exists()


def test_report_for_an_unknown_athlete_exits_2(sample_snapshot: Path, tmp_path: Path) -> None:
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow("report", "--db", str(db), "--athlete", "nobody", "--out", "out", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.strip() == f"repflow: athlete 'nobody' has no sets in {sample_snapshot}"
    assert not (tmp_path / "out").exists()


def test_report_before_any_run_exits_1(tmp_path: Path) -> None:
    result = repflow("report", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 1 and "does not exist yet" in result.stderr


def sql(db: Path, query: str) -> Result:
    """`repflow sql QUERY` in this process."""
    return CliRunner().invoke(cli.app, ["sql", query, "--db", str(db)])


def test_sql_prints_every_row_of_a_large_result_as_plain_columns(sample_snapshot: Path) -> None:
    db = sample_snapshot.with_name("warehouse.duckdb")
    rows = common.RICH_ROWS + 50
    many = sql(db, f"SELECT range AS n, [range] AS l FROM range({rows})")
    assert many.exit_code == 0, many.output
    header, rule, *lines = many.stdout.splitlines()
    assert header.split() == ["n", "l"] and set(rule) == {"-", " "}
    assert [line.split(maxsplit=1) for line in lines] == [[str(n), f"[{n}]"] for n in range(rows)]
    one = sql(db, f"SELECT range AS number FROM range({rows})")
    assert one.stdout.splitlines()[:3] == ["number", "------", "0"]
    assert sql(db, "SET threads = 2").stdout == "no rows\n"


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("SELECT ['/x', 'a[b]'] AS l", "['/x', 'a[b]']".replace("'", "")),  # no rich markup
        ("SELECT INTERVAL 2 DAY AS d, 3 AS d, [INTERVAL 1 DAY] AS l", "2 days"),
    ],
    ids=["brackets", "intervals"],
)
def test_sql_prints_any_result_as_text_without_a_traceback(
    sample_snapshot: Path, query: str, shown: str
) -> None:
    result = sql(sample_snapshot.with_name("warehouse.duckdb"), query)
    assert result.exit_code == 0 and result.exception is None, result.output
    assert shown in result.stdout


def flag_frame(count: int) -> pl.DataFrame:
    """`count` flags as the rules give them, one athlete each."""
    return pl.DataFrame({"athlete_id": [f"m{i:05d}" for i in range(count)]}).with_columns(
        exercise_id=pl.lit("back_extension"),
        action=pl.lit("raise_reps"),
        current_sets=3,
        current_reps=10,
        current_load_kg=20.0,
        next_sets=3,
        next_reps=11,
        next_load_kg=20.0,
        load_unit=pl.lit("kg"),
        reason=pl.lit("Done cleanly: add a rep."),
    )


def test_a_run_lists_its_first_flags_and_points_to_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = flag_frame(loading.RUN_FLAGS_SHOWN + 5)
    reading.print_flags(flags, common.Format.table, shown=loading.RUN_FLAGS_SHOWN)
    printed = capsys.readouterr().out
    listed = [a for a in flags["athlete_id"] if a in printed]
    assert listed == flags["athlete_id"].head(loading.RUN_FLAGS_SHOWN).to_list()
    assert "… and 5 more: `repflow flags` lists them all" in printed


def test_many_flags_print_as_plain_columns_every_one(capsys: pytest.CaptureFixture[str]) -> None:
    flags = flag_frame(common.RICH_ROWS + 1)
    reading.print_flags(flags, common.Format.table)
    header, rule, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["athlete", "exercise", "action", "now", "next", "reason"]
    assert [row.split()[0] for row in rows] == flags["athlete_id"].to_list()
    # Each column starts where its header does.
    starts = [header.index(name) for name in ("exercise", "action", "now", "next", "reason")]
    assert all(
        [row.index(value) for value in ("back_extension", "raise_reps", "3×10", "3×11", "Done")]
        == starts
        for row in rows
    )
    assert set(rule) == {"-", " "}


def test_export_writes_every_table_and_view_as_parquet_for_a_bi_tool(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bi"
    db = sample_snapshot.with_name("warehouse.duckdb")
    result = repflow("export", "--format", "parquet", str(folder), "--db", str(db), cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    con = duckdb.connect(str(sample_snapshot), read_only=True)
    try:
        objects = [
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() UNION ALL "
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        ]
        assert {"sets", "exercises", "v_weekly_sets_by_muscle", "v_changes_since"} <= set(objects)
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{o}.parquet" for o in objects)
        for name in objects:
            columns = [c[0] for c in con.execute(f"SELECT * FROM {name} LIMIT 0").description]
            rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            exported = pl.read_parquet(folder / f"{name}.parquet")
            assert exported.columns == columns, name
            if name != "v_adherence":  # its current week moves with the clock
                assert (exported.height,) == rows, name
    finally:
        con.close()
    assert f"to {folder}" in result.stdout
