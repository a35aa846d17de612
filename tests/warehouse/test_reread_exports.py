"""`repflow reload` re-reads what an earlier reader stored wrong (issue 23): a pound file that
named no unit, read as kg, is corrected to lb with the kg values kept in set_corrections; rows
whose dates an earlier reader rejected become sets, and their rejects go."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from flows import parsing, pipeline
from sources import base, hevy_csv, strong_csv
from tests.conftest import REAL_DATA, Workspace, needs_real_data

LB = 0.45359237
STRONG, HEVY = strong_csv.read, hevy_csv.read  # today's readers


def strong_before(path: Path, hints: base.ReadHints) -> base.Parsed:
    """Strong's reader before issue 23: a file that names no unit was read in the athlete's
    unit setting (kg), whatever its loads."""
    return STRONG(path, replace(hints, file_unit=hints.unit))


def hevy_before(path: Path, hints: base.ReadHints) -> base.Parsed:
    """Hevy's reader before issue 23: `Jun 11, 2026, 1:01 PM` was passed on as written (and
    rejected), and nothing failed a file as a whole."""
    parsed = HEVY(path, hints)
    us = pl.col("session_key").str.contains(r"^[A-Z][a-z]{2} \d")
    rows = parsed.rows.with_columns(
        performed_at=pl.when(us).then(pl.col("session_key")).otherwise("performed_at")
    )
    return replace(parsed, rows=rows)


@pytest.fixture
def older_strong(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(strong_csv, "VERSION", strong_csv.VERSION - 1)
    monkeypatch.setattr(strong_csv, "read", strong_before)
    return monkeypatch


@pytest.fixture
def older_hevy(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setattr(hevy_csv, "VERSION", hevy_csv.VERSION - 1)
    monkeypatch.setattr(hevy_csv, "read", hevy_before)
    monkeypatch.setattr(parsing, "one_rule_fails_all", lambda rejects: None)
    return monkeypatch


CLASSIC = (
    "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,Notes,"
    "Workout Notes,RPE"
)
POUNDS = [135.0, 225.0, 315.0, 405.0, 185.0, 95.0, 225.0, 135.0, 275.0, 315.0]


def pound_export() -> str:
    rows = [
        f"2025-03-01 09:00:00,Legs,1h,Squat (Barbell),{n + 1},{load},5.0,0,0.0,,,"
        for n, load in enumerate(POUNDS)
    ]
    return "\n".join([CLASSIC, *rows]) + "\n"


def corrections(workspace: Workspace) -> list[tuple[object, ...]]:
    return workspace.query(
        "SELECT change, load_unit, count(*), round(sum(load_kg), 3), min(reader_version_before), "
        "min(reader_version) FROM set_corrections GROUP BY ALL"
    )


def test_a_pound_file_read_as_kg_is_corrected(
    workspace: Workspace, older_strong: pytest.MonkeyPatch
) -> None:
    before = workspace.ingest("u1/strong.csv", pound_export())
    assert (before.unit, before.unit_source) == ("kg", "file_unit")  # as the old reader did
    assert workspace.scalar("SELECT max(load_kg) FROM sets") == 405.0  # 2.2 times too heavy
    older_strong.undo()  # the upgrade
    result = pipeline.reload(workspace.config(), date(2025, 3, 2))
    ((_, outcome),) = result.files
    assert (outcome.corrected, outcome.loaded, outcome.revised) == (len(POUNDS), 0, 0)
    assert (outcome.unit, outcome.unit_source) == ("lb", "loads")
    assert corrections(workspace) == [
        ("changed", "kg", len(POUNDS), sum(POUNDS), strong_csv.VERSION - 1, strong_csv.VERSION)
    ]
    assert workspace.query("SELECT DISTINCT load_unit FROM sets") == [("lb",)]
    assert workspace.scalar("SELECT sum(load_kg) FROM sets") == pytest.approx(sum(POUNDS) * LB)
    assert workspace.scalar("SELECT count(*) FROM set_revisions") == 0  # not the lifter's edit
    assert workspace.query("SELECT unit, unit_source FROM ingested_files") == [("lb", "loads")]


def test_rows_whose_dates_were_rejected_are_read_again(
    workspace: Workspace, older_hevy: pytest.MonkeyPatch
) -> None:
    header = (
        "title,start_time,end_time,description,exercise_title,superset_id,exercise_notes,"
        "set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe"
    )
    rows = [
        '"Push","15 Sep 2025, 07:48","","","Bench",,"",0,"normal",60,8,,,',
        '"Push","Sep 17, 2025, 6:02 PM","","","Bench",,"",0,"normal",62.5,8,,,',
        '"Push","Sep 17, 2025, 6:02 PM","","","Bench",,"",1,"normal",62.5,7,,,',
    ]
    before = workspace.ingest("u1/hevy.csv", "\n".join([header, *rows]) + "\n")
    assert (before.status, before.loaded, before.rejected) == ("loaded", 1, 2)
    older_hevy.undo()
    ((_, outcome),) = pipeline.reload(workspace.config(), date(2025, 9, 18)).files
    assert (outcome.loaded, outcome.rejected, outcome.corrected) == (2, 0, 0)
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0
    assert workspace.scalar("SELECT count(*) FROM sets") == 3


@needs_real_data
def test_the_real_spanish_export_read_as_kg_before_and_lb_after(
    workspace: Workspace, older_strong: pytest.MonkeyPatch
) -> None:
    before = workspace.ingest_real("strong/strong_spanish.csv")
    kilos = workspace.scalar("SELECT sum(load_kg) FROM sets")
    older_strong.undo()
    ((_, outcome),) = pipeline.reload(workspace.config(), date(2026, 1, 1)).files
    # Every set changes unit, a bodyweight set's too; the loaded ones change load as well.
    assert (outcome.unit, outcome.loaded, outcome.revised) == ("lb", 0, 0)
    assert outcome.corrected == before.loaded == workspace.scalar("SELECT count(*) FROM sets")
    ((change, unit, count, old_kg, was, now),) = corrections(workspace)
    assert (change, unit, count, was, now) == (
        "changed", "kg", before.loaded, strong_csv.VERSION - 1, strong_csv.VERSION,
    )  # fmt: skip
    assert old_kg == pytest.approx(kilos, abs=0.01)
    assert workspace.scalar("SELECT sum(load_kg) FROM sets") == pytest.approx(kilos * LB)


@needs_real_data
def test_the_real_us_dates_rejected_before_load_after(
    workspace: Workspace, older_hevy: pytest.MonkeyPatch
) -> None:
    with (REAL_DATA / "hevy/hevy_us_12h_dates.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    before = workspace.ingest_real("hevy/hevy_us_12h_dates.csv")
    assert (before.status, before.loaded, before.rejected) == ("loaded", 0, len(rows))
    older_hevy.undo()
    ((_, outcome),) = pipeline.reload(workspace.config(), date(2026, 7, 1)).files
    assert (outcome.loaded, outcome.rejected) == (len(rows) - outcome.skipped, 0)
    assert workspace.scalar("SELECT count(*) FROM rejects") == 0
