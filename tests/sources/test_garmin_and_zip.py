"""Garmin FIT (the real file and generated ones) and zip bundles with their guards."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fit_tool.profile.profile_type import ExerciseCategory, Sport

from flows import discovery, pipeline, runs
from flows.summary import lines
from schemas.set_row import RowContext
from schemas.validate import validate
from sources import read
from sources.csv_text import UnreadableFile
from tests.cases import zipped
from tests.conftest import REAL_DATA, Workspace, csv_text, needs_real_data
from tests.sources.fit_fixtures import FitSet, write_fit

REAL_FIT = REAL_DATA / "garmin" / "garmin_multisport_strength.fit"
SWISS_BALL_HYPEREXTENSION = 33


def run(workspace: Workspace, as_of: date | None = None) -> runs.RunSummary:
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run" if as_of else "ingest", as_of)


@needs_real_data
def test_real_garmin_file_keeps_active_strength_sets_only(workspace: Workspace) -> None:
    from garmin_fit_sdk import Decoder, Stream

    messages, _ = Decoder(Stream.from_file(str(REAL_FIT))).read()
    # The SDK's typing of a message is narrower than what it decodes: read them as dicts.
    sets: list[Any] = messages["set_mesgs"]
    active = [m for m in sets if m.get("set_type") == "active"]
    (workspace.inbox / "g1").mkdir()
    shutil.copy(REAL_FIT, workspace.inbox / "g1" / "a.fit")
    summary = run(workspace)
    ((_, outcome),) = summary.files
    assert (outcome.format, outcome.loaded, outcome.rejected) == ("garmin_fit", len(active), 0)
    assert outcome.skipped == len(messages["set_mesgs"]) - len(active)
    serial = str(messages["file_id_mesgs"][0]["serial_number"])
    assert workspace.query("SELECT DISTINCT device_id FROM sets") == [(serial,)]
    unknown = sum(1 for m in active if (m.get("category") or ["unknown"])[0] == "unknown")
    assert workspace.scalar("SELECT count(*) FROM sets WHERE exercise_raw = 'Unknown'") == unknown
    assert workspace.scalar("SELECT min(performed_at)::DATE FROM sets") == date(2025, 10, 20)


def test_generated_fit_weights_pounds_and_hyperextension(workspace: Workspace) -> None:
    path = write_fit(
        workspace.inbox / "g1" / "w.fit",
        [
            FitSet(10, 60.0),
            FitSet(None, active=False),
            FitSet(12, 20.0, pounds=True),
            FitSet(15, 0.0, ExerciseCategory.HYPEREXTENSION, SWISS_BALL_HYPEREXTENSION),
            FitSet(15, 0.0, ExerciseCategory.HYPEREXTENSION),
        ],
    )
    parsed = read(path)
    sets = validate(parsed.rows, RowContext(), "g1").sets
    assert parsed.skipped == 1
    assert sets["exercise_raw"].to_list() == [
        "Squat",
        "Squat",
        "Hyperextension: Swiss Ball Hyperextension",
        "Hyperextension",
    ]
    assert sets["load_unit"].to_list() == ["kg", "lb", "kg", "kg"]
    assert sets["load_kg"][1] == pytest.approx(20.0, abs=1e-6)  # kg in FIT, shown in lb
    run(workspace)
    ids = workspace.query("SELECT DISTINCT exercise_id FROM sets ORDER BY 1")
    assert ids == [("back_extension",), ("squat",)]  # by Garmin's category, subtype or not
    # Mapped by its category, a Garmin name is no candidate for the catalog.
    assert workspace.query("SELECT exercise_key FROM v_unmapped_exercises") == []


def test_fit_without_a_strength_session_has_no_sets(workspace: Workspace) -> None:
    path = write_fit(
        workspace.root / "run.fit", [FitSet(10, 60.0), FitSet(None, active=False)], Sport.RUNNING
    )
    parsed = read(path)
    # The active set is rejected, not dropped in silence; the rest is skipped.
    (reason,) = parsed.rows["structure_error"].to_list()
    assert reason.startswith("outside_strength_session: ") and parsed.skipped == 1


@pytest.mark.parametrize("damage", ["truncate", "crc"])
def test_damaged_fit_fails_with_a_reason(workspace: Workspace, damage: str) -> None:
    data = bytearray(write_fit(workspace.root / "ok.fit", [FitSet(10, 60.0)] * 3).read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[-5] ^= 0xFF
    target = workspace.inbox / "g1" / "bad.fit"
    target.parent.mkdir()
    target.write_bytes(bytes(data))
    summary = run(workspace)
    ((_, outcome),) = summary.files
    assert outcome.status == "failed" and summary.exit_code == 1
    assert "damaged or truncated" in str(outcome.error)


def test_zip_bundle_loads_each_member_with_its_own_format(workspace: Workspace) -> None:
    fit = write_fit(workspace.root / "x.fit", [FitSet(10, 60.0), FitSet(8, 62.5)]).read_bytes()
    canonical = csv_text(
        "2026-11-16T07:00:00,Bench Press,8,60,kg,,working",
        "2026-11-16T07:05:00,Bench Press,x,60,kg,,working",
    )
    data = zipped({"activities/1.fit": fit, "log.csv": canonical.encode(), "README.txt": b"hi"})
    (workspace.inbox / "z1").mkdir()
    (workspace.inbox / "z1" / "export.zip").write_bytes(data)
    summary = run(workspace)
    ((_, outcome),) = summary.files
    assert (outcome.status, outcome.loaded, outcome.rejected) == ("loaded", 3, 1)
    # the readme is no set data: not read, named with its first bytes, not counted as skipped
    assert outcome.skipped == 0
    assert outcome.unknown == ("README.txt (it starts with 'hi')",)
    assert summary.unknown == ["z1/export.zip: README.txt (it starts with 'hi')"]
    assert "  not read (no known format): z1/export.zip: README.txt" in "\n".join(lines(summary))
    formats = dict(workspace.query("SELECT source_format, count(*) FROM sets GROUP BY ALL"))
    assert formats == {"garmin_fit": 2, "canonical_csv": 1}
    raw = workspace.scalar("SELECT raw FROM rejects")
    assert raw.startswith("log.csv: ")
    # The same FIT file loose is the same sets: nothing new.
    (workspace.inbox / "z1" / "1.fit").write_bytes(fit)
    again = run(workspace)
    assert again.total("loaded") == 0 and again.total("rejected") == 0


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ({"../../etc/passwd": b"root:x:0:0"}, "points outside the bundle"),
        ({"/abs.csv": b"x"}, "points outside the bundle"),
        ({"inner.zip": zipped({"a.csv": b"x"})}, "is itself a zip"),
        ({"bomb.csv": b"0" * (5 << 20)}, "zip bomb"),
    ],
    ids=["zip-slip", "absolute", "nested", "bomb"],
)
def test_zip_guards_fail_the_file(
    workspace: Workspace, entries: dict[str, bytes], reason: str
) -> None:
    target = workspace.inbox / "z1" / "bad.zip"
    target.parent.mkdir()
    target.write_bytes(zipped(entries))
    summary = run(workspace)
    ((_, outcome),) = summary.files
    assert outcome.status == "failed"
    assert reason in str(outcome.error)
    assert not Path("/etc/passwd.csv").exists()


def test_truncated_zip_fails_cleanly(tmp_path: Path) -> None:
    data = zipped({"a.csv": csv_text("2026-11-16T07:00:00,Squat,5,100,kg,,").encode()})
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableFile, match="not a readable zip"):
        read(path)
