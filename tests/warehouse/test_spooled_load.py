"""A large file is validated a batch at a time and spooled; what it stores is what the same file
stores read at once: the same sets, numbers, revisions and rejects, duplicates across batches
included."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

import sources.csv_text
from flows import discovery, parsing, pipeline
from schemas.validate import duplicate_rejects
from tests.conftest import Workspace, csv_text
from warehouse.spool import PREFIX, Spool

HEADER = "athlete_id,performed_at,exercise,reps,load,unit,set_index,notes"


def export(days: range, changed_day: int | None = None, numbered: bool = False) -> str:
    rows = []
    for day in days:
        stamp = f"2026-10-{day:02d}T07:00:00Z"
        load = 62.5 if day == changed_day else 60
        # Numbered 1-3 in file order, unless the file numbers them.
        rows += [f"a1,{stamp},Squat,5,{load},kg,{n if numbered else ''}," for n in (1, 2, 3)]
        rows += [f"a2,{stamp},Bench Press,8,40,kg,1,", f"a2,{stamp},Bench Press,8,41,kg,1,"]
        rows += [f"a2,{stamp},Row,ten,40,kg,1,"]  # bad reps
        rows += [f"a2,{stamp},Bench Press,8,42,kg,1,{'x' * 5000}"]  # a long repeat, cut
    return csv_text(*rows, header=HEADER)


def _load(
    root: Path, batch_bytes: int | None, numbered: bool, monkeypatch: pytest.MonkeyPatch
) -> Workspace:
    if batch_bytes is not None:
        monkeypatch.setattr(sources.csv_text, "BATCH_BYTES", batch_bytes)
    workspace = Workspace(root)
    (root / "inbox").mkdir(parents=True)
    workspace.write("gym/first.csv", export(range(1, 15), numbered=numbered))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "ingest", date(2026, 11, 1))
    # An overlapping later export, one set edited: the merge path, across batches too.
    workspace.write("gym/second.csv", export(range(10, 25), changed_day=12, numbered=numbered))
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "ingest", date(2026, 11, 1))
    monkeypatch.undo()
    return workspace


TABLES = {
    "sets": "SELECT * EXCLUDE (run_id) FROM sets ORDER BY ALL",
    "set_revisions": "SELECT * EXCLUDE (run_id, revised_at) FROM set_revisions ORDER BY ALL",
    "rejects": "SELECT file_id, source_line, raw, errors::VARCHAR FROM rejects ORDER BY ALL",
    "ingested_files": "SELECT * EXCLUDE (run_id, ingested_at) FROM ingested_files ORDER BY ALL",
}


@pytest.mark.parametrize("numbered", [False, True])
def test_a_spooled_file_stores_what_a_file_read_at_once_stores(
    tmp_path: Path, numbered: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _load(tmp_path / "whole", None, numbered, monkeypatch)
    batched = _load(tmp_path / "batched", 300, numbered, monkeypatch)
    for table, sql in TABLES.items():
        assert batched.query(sql) == whole.query(sql), table
    # The file did cross batches: sets numbered 1-3 and the repeated key rejected.
    assert whole.scalar("SELECT max(set_index) FROM sets WHERE athlete_id = 'a1'") == 3
    assert whole.scalar("SELECT count(*) FROM rejects WHERE errors::VARCHAR LIKE '%duplicate%'")
    assert whole.scalar("SELECT count(*) FROM set_revisions") == 3


def test_a_large_file_is_parsed_into_a_spool_of_batches(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources.csv_text, "BATCH_BYTES", 300)
    path = workspace.write("gym/first.csv", export(range(1, 15)))
    parsed = parsing.parse(path, "gym", workspace.config())
    assert not isinstance(parsed, str) and isinstance(parsed.sets, Spool)
    assert parsed.sets.parts > 5
    folder = parsed.sets.folder
    del parsed
    assert not folder.exists()  # the spool goes with the parse


def test_a_killed_process_spool_is_removed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    orphan = tmp_path / f"{PREFIX}{int(dead.stdout)}-abc"
    orphan.mkdir()
    living = Spool()
    assert not orphan.exists() and living.folder.exists()
    assert Spool().folder.exists() and living.folder.exists()  # a live process's spool stays


def test_a_duplicate_from_duckdb_in_another_zone_is_named_in_utc() -> None:
    # DuckDB hands times back in its session's zone, which follows the host's.
    at = datetime(2026, 10, 2, 7, 0, tzinfo=UTC)
    row = {"athlete_id": "a2", "exercise_raw": "Bench Press", "set_index": 1, "source_line": 9}
    frame = pl.DataFrame([row | {"performed_at": at, "raw": "x"}]).with_columns(
        pl.col("performed_at").dt.convert_time_zone("America/New_York")
    )
    (errors,) = duplicate_rejects(frame)["errors"].to_list()
    assert "2026-10-02 07:00:00 UTC" in json.loads(errors)[0]["message"]


def test_a_spool_write_that_fails_fails_the_parse_of_its_file(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts are written in a background thread; a full disk there is still the parse's error,
    an OSError that names the spool, raised before the loader reads a part."""
    monkeypatch.setattr(sources.csv_text, "BATCH_BYTES", 2000)
    path = workspace.write("gym/first.csv", export(range(1, 15)))
    write_parquet = pl.DataFrame.write_parquet
    written: list[Path] = []

    def full_disk(frame: pl.DataFrame, file: Path, **options: object) -> None:
        if len(written) == 4:
            raise pl.exceptions.ComputeError("No space left on device (os error 28)")
        written.append(file)
        write_parquet(frame, file, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.DataFrame, "write_parquet", full_disk)
    with pytest.raises(OSError, match=r"could not write the spool in .*No space left on device"):
        parsing.parse(path, None, workspace.config())
    assert len(written) == 4
