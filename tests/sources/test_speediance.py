"""Speediance session details (a connected cable machine): a set per `finishedReps` entry,
every rep's data in rep_metrics, a re-download stored once."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sources import detect, speediance_json
from tests.conftest import REAL_DATA, Workspace, needs_real_data

REAL = "machines/speediance/sp_detail_1103072.json"
START_MS = 1_788_023_810_614  # 2026-08-29 17:16:50.614 UTC


def rep_detail(weights: list[float], start_ms: int, sides: tuple[str, ...] = ("left", "right")):
    """A set's per-rep arrays as the machine's cloud writes them: both cables' loads add up to
    `weights`, one rep every 2.5 s, rope speed falling by 0.05 m/s a rep."""
    count = len(weights)
    detail: dict[str, Any] = {"weights": weights, "cttTrainingInfoId": 555}
    for side in ("left", "right"):
        share = len(sides)
        worked = side in sides
        detail[f"{side}Weights"] = [w / share for w in weights] if worked else []
        detail[f"{side}Watts"] = [100.0 + n for n in range(count)] if worked else []
        detail[f"{side}RopeSpeeds"] = (
            [round(0.8 - 0.05 * n, 2) for n in range(count)] if worked else []
        )
        detail[f"{side}Amplitudes"] = [0.5] * count if worked else []
        detail[f"{side}Timestamps"] = [start_ms + 2500 * n for n in range(count)] if worked else []
    return detail


def set_entry(reps: int, load: float, start_ms: int, target: int | None = None, **more: Any):
    return {
        "finishedCount": reps,
        "targetCount": target if target is not None else reps,
        "capacity": reps * load,
        "breakTime": 90,
        "trainingInfoDetail": rep_detail([load] * reps, start_ms) if reps else {},
        **more,
    }


def session(*exercises: dict[str, Any]) -> str:
    return json.dumps(list(exercises), indent=2)


def exercise(name: str, *sets: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"actionLibraryName": name, "completionMethod": 1, "finishedReps": list(sets), **more}


RAMP = exercise(
    "Barbell Bent Over Row",
    set_entry(12, 30.0, START_MS, target=12),
    set_entry(10, 40.0, START_MS + 110_000, target=12),
    set_entry(8, 45.0, START_MS + 220_000),
)


def test_detected_from_content_not_the_name(tmp_path: Path) -> None:
    path = tmp_path / "anything.txt"
    path.write_text(session(RAMP))
    assert detect(path.read_bytes()).FORMAT == "speediance_json"
    assert not speediance_json.detect(json.dumps([{"finishedReps": []}]).encode())
    assert not speediance_json.detect(b'{"actionLibraryName": "x", "finishedReps": []}')


def test_each_set_with_its_reps_load_target_rest_and_first_rep_time(workspace: Workspace) -> None:
    outcome = workspace.ingest("a1/session.json", session(RAMP))
    assert (outcome.status, outcome.format, outcome.loaded) == ("loaded", "speediance_json", 3)
    rows = workspace.query(
        "SELECT set_index, set_type, reps, target_reps, rest_s, load_kg, session_id, "
        "strftime(performed_at AT TIME ZONE 'UTC', '%H:%M:%S') FROM sets ORDER BY set_index"
    )
    assert rows == [
        (1, "working", 12, 12, 90.0, 30.0, "555", "17:16:50"),
        (2, "working", 10, 12, 90.0, 40.0, "555", "17:18:40"),
        (3, "working", 8, 8, 90.0, 45.0, "555", "17:20:30"),
    ]


def test_every_rep_goes_to_rep_metrics_keyed_by_its_set(workspace: Workspace) -> None:
    workspace.ingest("a1/session.json", session(RAMP))
    per_set = workspace.query(
        "SELECT r.set_index, count(*), sum(r.load_left_kg + r.load_right_kg), "
        "min(r.rep), max(r.rep), bool_and(r.rep_at >= s.performed_at) "
        "FROM rep_metrics r JOIN sets s USING (source_format, athlete_id, performed_at, "
        "exercise_key, set_index) GROUP BY ALL ORDER BY 1"
    )
    assert per_set == [
        (1, 12, 360.0, 1, 12, True),
        (2, 10, 400.0, 1, 10, True),
        (3, 8, 360.0, 1, 8, True),
    ]
    velocity = workspace.query(
        "SELECT set_index, reps_measured, fastest_speed_m_s, last_speed_m_s, speed_loss_pct "
        "FROM v_set_velocity ORDER BY set_index"
    )
    # 0.8 m/s falling 0.05 a rep: the last of 12 reps is 0.25, a loss of 68.8 %
    assert velocity[0] == (1, 12, 0.8, 0.25, 68.8)
    assert velocity[2] == (3, 8, 0.8, 0.45, 43.8)


def test_a_one_sided_set_keeps_the_other_side_empty(workspace: Workspace) -> None:
    single = set_entry(6, 20.0, START_MS)
    single["trainingInfoDetail"] = rep_detail([20.0] * 6, START_MS, sides=("right",))
    workspace.ingest("a1/one_arm.json", session(exercise("Single Arm Row", single)))
    loads = workspace.query(
        "SELECT count(*), count(load_left_kg), sum(load_right_kg), count(speed_left_m_s) "
        "FROM rep_metrics"
    )
    assert loads == [(6, 0, 120.0, 0)]


def test_a_skipped_set_is_not_a_set_and_a_timed_exercise_has_seconds(workspace: Workspace) -> None:
    timed = exercise(
        "Plank Row",
        {
            **set_entry(0, 0.0, START_MS),
            "time": 45,
            "trainingInfoDetail": rep_detail([0.0], START_MS),
        },
        completionMethod=0,
    )
    skipped = set_entry(0, 30.0, START_MS + 9_000)
    outcome = workspace.ingest("a1/mixed.json", session(exercise("Curl", skipped), timed))
    assert (outcome.loaded, outcome.skipped, outcome.rejected) == (1, 1, 0)
    assert workspace.query("SELECT exercise_raw, reps, duration_s, load_kg FROM sets") == [
        ("Plank Row", None, 45.0, 0.0)
    ]
    assert workspace.scalar("SELECT count(*) FROM rep_metrics") == 0  # a timed set has no reps


def test_a_set_without_rep_times_is_rejected_with_the_reason(workspace: Workspace) -> None:
    broken = set_entry(10, 40.0, START_MS)
    broken["trainingInfoDetail"] = {"weights": [40.0] * 10}
    outcome = workspace.ingest(
        "a1/broken.json", session(exercise("Row", broken, set_entry(8, 40.0, START_MS)))
    )
    assert (outcome.loaded, outcome.rejected) == (1, 1)
    (errors,) = workspace.query("SELECT errors FROM rejects")[0]
    assert "no rep timestamps" in errors


def test_a_file_that_is_not_a_list_of_exercises_fails_with_its_reason(workspace: Workspace) -> None:
    outcome = workspace.ingest("a1/odd.json", '[{"actionLibraryName": "x", "finishedReps": 3}')
    assert outcome.status == "failed" and "not valid JSON" in (outcome.error or "")


def test_a_re_download_of_the_same_session_stores_nothing_new(workspace: Workspace) -> None:
    workspace.ingest("a1/session.json", session(RAMP))
    again = json.loads(session(RAMP))
    again[0]["score"] = 17  # the cloud recomputes its scores: other bytes, the same sets
    outcome = workspace.ingest("a1/session-again.json", json.dumps(again))
    assert (outcome.status, outcome.loaded, outcome.unchanged) == ("loaded", 0, 3)
    assert workspace.scalar("SELECT count(*) FROM rep_metrics") == 30


def test_a_zip_keeps_each_member_s_reps_with_their_sets(workspace: Workspace) -> None:
    other = exercise("Biceps Curl", set_entry(10, 20.0, START_MS + 600_000))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("first.json", session(RAMP))
        bundle.writestr("second.json", session(other))
    path = workspace.inbox / "a1" / "bundle.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(buffer.getvalue())
    outcome = workspace.ingest("a1/bundle.zip")
    assert outcome.loaded == 4
    matched = workspace.query(
        "SELECT s.exercise_raw, s.set_index, count(*), any_value(s.reps) FROM rep_metrics r "
        "JOIN sets s USING (source_format, athlete_id, performed_at, exercise_key, set_index) "
        "GROUP BY ALL ORDER BY 1, 2"
    )
    assert matched == [
        ("Barbell Bent Over Row", 1, 12, 12),
        ("Barbell Bent Over Row", 2, 10, 10),
        ("Barbell Bent Over Row", 3, 8, 8),
        ("Biceps Curl", 1, 10, 10),
    ]


def independent_reading(path: Path) -> tuple[int, int, float]:
    """Sets done, reps and volume as the machine itself counts them (`capacity`)."""
    done = [
        s for e in json.loads(path.read_text()) for s in e["finishedReps"] if s["finishedCount"]
    ]
    return len(done), sum(s["finishedCount"] for s in done), sum(s["capacity"] for s in done)


@needs_real_data
def test_the_real_session_loads_its_sets_and_reps_exactly_once(workspace: Workspace) -> None:
    sets, reps, volume = independent_reading(REAL_DATA / REAL)
    assert (sets, reps, volume) == (16, 181, 7745.0)  # as the README describes the file
    outcome = workspace.ingest_real(REAL)
    assert (outcome.status, outcome.loaded, outcome.rejected) == ("loaded", sets, 0)
    stored = workspace.query("SELECT count(*), sum(reps), sum(reps * load_kg) FROM sets")
    assert stored == [(sets, reps, volume)]
    assert workspace.scalar("SELECT count(*) FROM rep_metrics") == reps
    per_side = workspace.scalar("SELECT sum(load_left_kg + load_right_kg) FROM rep_metrics")
    assert per_side == pytest.approx(volume)
    copy_path = workspace.inbox / "u1" / "copy.json"
    copy_path.write_bytes((REAL_DATA / REAL).read_bytes())
    assert workspace.ingest("u1/copy.json").status == "duplicate"
    copy = json.loads((REAL_DATA / REAL).read_text())
    copy[0]["score"] += 1
    changed = workspace.ingest("u1/redownload.json", json.dumps(copy))
    assert (changed.loaded, changed.unchanged) == (0, sets)
    assert workspace.query("SELECT count(*) FROM sets") == [(sets,)]
    assert workspace.scalar("SELECT count(*) FROM rep_metrics") == reps
