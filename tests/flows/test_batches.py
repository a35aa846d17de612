"""Batches: a night's files parsed and stored together give exactly what storing them one by one
in file order gives, table by table; one bad file fails alone; an error that is not a file's
fails the run and marks no file failed."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import discovery, loading, pipeline, runs
from flows.config import Config, load
from sources.content import Identity
from tests.conftest import Workspace, csv_text
from warehouse import load_batch
from warehouse.db import Warehouse
from warehouse.load import FileOutcome
from warehouse.load_batch import Entry

# Every table a file's storing writes, without the run's ids and the times.
TABLES = {
    "sets": "SELECT * EXCLUDE (run_id) FROM sets ORDER BY ALL",
    "set_revisions": "SELECT * EXCLUDE (run_id, revised_at) FROM set_revisions ORDER BY ALL",
    "set_corrections": "SELECT * EXCLUDE (run_id, corrected_at) FROM set_corrections ORDER BY ALL",
    "rejects": "SELECT * EXCLUDE (run_id) FROM rejects ORDER BY ALL",
    "ingested_files": "SELECT * EXCLUDE (run_id, ingested_at) FROM ingested_files ORDER BY ALL",
}
STRONG_HEADER = (
    "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
    "Workout Notes,RPE"
)
ATHLETES = ("a1", "b2")
EXERCISES = ("Squat", "Bench Press")
# Round pound plates (a Strong file of them is read in lb), kg steps, and loads that say nothing.
LOADS = {"lb": (135.0, 225.0, 315.0), "kg": (61.235, 83.915, 102.058), "unclear": (100.0, 50.0)}


def table_state(db: Path) -> dict[str, list[Any]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated warehouse with the catalog synced, copied for each run of the test."""
    db = tmp_path_factory.mktemp("template") / "warehouse.duckdb"
    runs.prepare(db, load({"db": db}), 0)
    return db


def night(inbox: Path, db: Path, batch_files: int) -> runs.RunSummary:
    config = load({"inbox": inbox, "db": db, "settle_s": 0, "batch_files": batch_files})
    files, _ = discovery.inbox_files(config)
    summary = runs.RunSummary(runs.new_run_id(runs.now()), "run", runs.now())
    loading.process_files(files, config, summary)
    return summary


def session(day: int, sets: int, loads: tuple[float, ...], bad: bool) -> list[tuple[Any, ...]]:
    """(time, exercise, set number, reps, load) of one workout; a bad row when `bad`."""
    rows = [
        (f"2026-03-{day + 1:02d} 07:{3 * s:02d}:00", EXERCISES[s % 2], s // 2 + 1, 5 + s % 3, load)
        for s, load in zip(range(sets), loads * sets, strict=False)
    ]
    if bad:
        rows.append((f"2026-03-{day + 1:02d} 07:59:00", "Squat", 9, "ten", 60.0))
    return rows


def canonical(rows: Sequence[tuple[Any, ...]]) -> str:
    return csv_text(
        *(
            f"{at.replace(' ', 'T')},{ex},{reps},{load},kg,,working"
            for at, ex, _, reps, load in rows
        )
    )


def strong(rows: Sequence[tuple[Any, ...]]) -> str:
    return csv_text(
        *(
            f'{at[:10]} 07:00:00,"Day",60m,"{ex}",{n},{load},{reps},0,0,,,'
            for at, ex, n, reps, load in rows
        ),
        header=STRONG_HEADER,
    )


FILE_KINDS = ("workout", "strong", "strong", "history", "copy", "broken", "all_bad")


@st.composite
def inboxes(draw: st.DrawFn) -> list[list[tuple[str, bytes]]]:
    """Nights of files (path, bytes) in the order they arrive: per-workout files in canonical
    CSV and Strong (whose unit is inferred, and carries to the athlete's next files), whole
    history re-exports with edits, copies of earlier contents, bad rows, a broken file, a file
    whose rows all fail one rule."""
    history: dict[str, list[tuple[Any, ...]]] = {a: [] for a in ATHLETES}
    written: list[bytes] = []
    nights = []
    for _ in range(draw(st.integers(1, 2))):
        files = []
        for n in range(draw(st.integers(1, 7))):
            athlete = draw(st.sampled_from(ATHLETES))
            kind = draw(st.sampled_from(FILE_KINDS))
            day = draw(st.integers(0, 9))
            rows = session(
                day,
                draw(st.integers(3, 4)),  # enough for the plates to tell pounds
                LOADS[draw(st.sampled_from(sorted(LOADS)))],
                draw(st.booleans()),
            )
            name = f"{athlete}/{len(written):03d}-{n}"
            if kind == "copy" and written:
                data, name = draw(st.sampled_from(written)), name + ".csv"
            elif kind == "broken":
                data, name = b"\x00\x01garbage" * 40, name + ".bin"
            elif kind == "strong":
                data, name = strong(rows).encode(), name + ".csv"
            elif kind == "all_bad":
                bad = [(at, ex, s, "ten", load) for at, ex, s, _, load in rows]
                data, name = draw(st.sampled_from([canonical, strong]))(bad).encode(), name + ".csv"
            elif kind == "history":
                history[athlete] += rows
                edited = list(history[athlete])
                if draw(st.booleans()):  # the lifter edited an earlier set
                    at, ex, s, reps, load = edited[0]
                    edited[0] = (at, ex, s, 12 if reps != 12 else 11, load)
                data, name = canonical(edited).encode(), name + ".csv"
            else:
                history[athlete] += rows
                data, name = canonical(rows).encode(), name + ".csv"
            written.append(data)
            files.append((name, data))
        nights.append(files)
    return nights


def both_ways(template: Path, inbox: Path) -> list[runs.RunSummary]:
    """The inbox stored file by file and as batches, each into a copy of `template`; the
    warehouses compared table by table. The two summaries."""
    summaries = []
    for batch_files in (1, 100):
        db = inbox.parent / f"batch-{batch_files}.duckdb"
        shutil.copy(template, db)
        summaries.append(night(inbox, db, batch_files))
    assert table_state(inbox.parent / "batch-1.duckdb") == table_state(
        inbox.parent / "batch-100.duckdb"
    )
    alone, together = summaries
    assert [(i.path, o) for i, o in together.files] == [(i.path, o) for i, o in alone.files]
    return summaries


def test_a_file_that_decided_a_unit_and_then_failed_decides_nothing_for_the_next(
    template: Path, tmp_path: Path
) -> None:
    """A Strong file whose loads say pounds, but whose rows all fail: it is not stored, so the
    athlete's next file, whose loads say nothing, is read in the setting's unit, not in pounds,
    in a batch as file by file."""
    inbox = tmp_path / "inbox"
    (inbox / "a1").mkdir(parents=True)
    failing = [(at, ex, s, "ten", load) for at, ex, s, _, load in session(1, 3, LOADS["lb"], False)]
    (inbox / "a1" / "0.csv").write_text(strong(failing))
    (inbox / "a1" / "1.csv").write_text(strong(session(2, 2, LOADS["unclear"], False)))
    (inbox / "a1" / "2.csv").write_text(strong(session(3, 3, LOADS["lb"], False)))
    (inbox / "a1" / "3.csv").write_text(strong(session(4, 2, LOADS["unclear"], False)))
    _, together = both_ways(template, inbox)
    first, unclear, pounds, after = (outcome for _, outcome in together.files)
    assert first.status == "failed" and (unclear.unit, unclear.unit_source) == ("kg", "setting")
    assert (pounds.unit_source, after.unit, after.unit_source) == ("loads", "lb", "earlier_files")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(nights=inboxes())
def test_batches_store_exactly_what_files_stored_one_by_one_store(
    template: Path, nights: list[list[tuple[str, bytes]]]
) -> None:
    with tempfile.TemporaryDirectory(prefix="repflow-batches-") as name:
        root = Path(name)
        inbox, one_by_one, batched = root / "inbox", root / "one.duckdb", root / "batch.duckdb"
        shutil.copy(template, one_by_one)
        shutil.copy(template, batched)
        for files in nights:
            for relative, data in files:
                (inbox / relative).parent.mkdir(parents=True, exist_ok=True)
                (inbox / relative).write_bytes(data)
            alone = night(inbox, one_by_one, batch_files=1)
            together = night(inbox, batched, batch_files=100)
            assert [(i.path, o) for i, o in together.files] == [(i.path, o) for i, o in alone.files]
            assert together.deferred == alone.deferred
            assert together.seen_before == alone.seen_before
            assert table_state(batched) == table_state(one_by_one)


def week(workspace: Workspace, *athletes: str) -> None:
    for n, athlete in enumerate(athletes):
        rows = [f"2026-03-0{n + 1}T07:0{s}:00,Squat,5,{60 + s},kg,,working" for s in range(3)]
        workspace.write(f"{athlete}/workout.csv", csv_text(*rows))


def run(workspace: Workspace, steps: pipeline.Steps | None = None) -> runs.RunSummary:
    config: Config = workspace.config()
    files, _ = discovery.inbox_files(config)
    return pipeline.execute(config, files, "ingest", None, steps or pipeline.Steps())


def test_the_common_night_is_stored_set_based_in_one_transaction(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    week(workspace, "a1", "b2", "c3", "d4")
    workspace.write("e5/broken.bin", "\x00garbage" * 20)
    merged: list[str] = []
    monkeypatch.setattr(load_batch, "load_in", lambda con, info, *a: merged.append(info.path))
    batches: list[list[str]] = []
    store = pipeline.Steps().store

    def counted(db: Warehouse, entries: Sequence[Entry], run_id: str) -> list[FileOutcome]:
        batches.append([entry.info.path for entry in entries])
        return store(db, entries, run_id)

    summary = run(workspace, pipeline.Steps(store=counted))
    assert merged == []  # no file stored by its own merge
    assert len(batches) == 1 and len(batches[0]) == 5
    assert [o.status for _, o in summary.files] == ["loaded"] * 4 + ["failed"]
    assert workspace.scalar("SELECT count(DISTINCT file_id) FROM sets") == 4
    assert workspace.scalar("SELECT count(*) FROM sets") == 12


def test_a_batch_whose_store_fails_for_one_file_is_stored_file_by_file(
    workspace: Workspace,
) -> None:
    week(workspace, "a1", "b2", "c3")
    store = pipeline.Steps().store

    def refusing(db: Warehouse, entries: Sequence[Entry], run_id: str) -> list[FileOutcome]:
        if any(entry.info.path == "b2/workout.csv" and entry.parsed for entry in entries):
            raise duckdb.ConversionException("a value of b2's that the warehouse refuses")
        return store(db, entries, run_id)

    summary = run(workspace, pipeline.Steps(store=refusing))
    outcomes = {info.path: outcome for info, outcome in summary.files}
    assert outcomes["a1/workout.csv"].status == outcomes["c3/workout.csv"].status == "loaded"
    assert outcomes["b2/workout.csv"].status == "failed"
    assert "could not be stored" in str(outcomes["b2/workout.csv"].error)
    assert "b2's" in str(outcomes["b2/workout.csv"].error)
    stored = workspace.query("SELECT DISTINCT athlete_id FROM sets ORDER BY 1")
    assert stored == [("a1",), ("c3",)]
    assert run(workspace).count("loaded") == 1  # the failed file is tried again, and loads


def test_an_error_that_is_not_a_files_fails_the_run_and_marks_no_file_failed(
    workspace: Workspace,
) -> None:
    week(workspace, "a1", "b2")
    store = pipeline.Steps().store

    def full_disk(db: Warehouse, entries: Sequence[Entry], run_id: str) -> list[FileOutcome]:
        if any(entry.parsed for entry in entries):
            raise duckdb.IOException("could not write: No space left on device")
        return store(db, entries, run_id)

    with pytest.raises(duckdb.IOException):
        run(workspace, pipeline.Steps(store=full_disk))
    assert workspace.scalar("SELECT count(*) FROM ingested_files") == 0
    assert workspace.scalar("SELECT count(*) FROM sets") == 0
    assert run(workspace).count("loaded") == 2  # the next run stores both


def test_batches_keep_their_size_and_a_large_file_goes_alone() -> None:
    def item(n: int, size: int, held: bool = True) -> loading.Item:
        found = discovery.Discovered(Path(f"f{n}"), f"f{n}", "a1")
        info = loading.FileInfo(f"id{n}", f"f{n}", "", size, "a1")
        identity = Identity(0, n, size, 0, 0)
        read = loading.Content("", size, identity, None, b"x" if held else None)
        return loading.Item(found, info, read, "new")

    items = [item(n, 10) for n in range(5)] + [item(5, 10, held=False), item(6, 10)]
    items.append(loading.Item(items[0].found, items[0].info, items[0].read, "new"))  # a copy
    sizes = [[i.found.relative for i in batch] for batch in loading.batched(items, 2, 1000)]
    assert sizes == [["f0", "f1"], ["f2", "f3"], ["f4"], ["f5"], ["f6", "f0"]]
    by_bytes = [len(batch) for batch in loading.batched(items[:5], 100, 25)]
    assert by_bytes == [2, 2, 1]
