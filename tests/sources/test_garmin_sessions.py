"""Garmin FIT: where a strength session ends when the file leaves out its length, and active
sets outside every strength session (rejected, never dropped). Files written with fit-tool."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.session_message import SessionMessage
from fit_tool.profile.messages.set_message import SetMessage
from fit_tool.profile.profile_type import (
    ExerciseCategory,
    FileType,
    FitBaseUnit,
    Manufacturer,
    SetType,
    Sport,
    SubSport,
)

from flows import discovery, pipeline
from sources import detect, garmin_fit, read
from tests.conftest import REAL_DATA, Workspace, needs_real_data

START = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
REAL_FIT = REAL_DATA / "garmin" / "garmin_multisport_strength.fit"
REJECTED = pl.col("structure_error").is_not_null()


@dataclass(frozen=True)
class Session:
    start: datetime = START
    sport: Sport = Sport.TRAINING
    timestamp: datetime | None = None
    elapsed_s: float | None = None
    timer_s: float | None = None


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def write(
    path: Path,
    active: list[datetime],
    sessions: list[Session],
    rests: Sequence[datetime] = (),
    records: Sequence[datetime] = (),
    reps: dict[datetime, int] | None = None,
    untyped: Sequence[datetime] = (),
) -> Path:
    """A FIT activity: 10 x 60 kg squats at `active` (other reps where `reps` says), rests at
    `rests`, sets without a set_type at `untyped`, heart-rate records at `records`, then the
    session messages with only the fields given."""
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 4315
    file_id.serial_number = 3486
    file_id.time_created = _ms(START)
    builder.add(file_id)
    for moment in records:
        record = RecordMessage()
        record.timestamp = _ms(moment)
        record.heart_rate = 120
        builder.add(record)
    kinds = {**{m: SetType.REST for m in rests}, **{m: SetType.ACTIVE for m in active}}
    for index, moment in enumerate(sorted([*kinds, *untyped])):
        message = SetMessage()
        message.start_time = _ms(moment)
        message.timestamp = _ms(moment + timedelta(seconds=40))
        message.duration = 40.0
        message.message_index = index
        kind = kinds.get(moment)
        if kind is not None:
            message.set_type = kind.value
        if kind != SetType.REST:
            message.repetitions = (reps or {}).get(moment, 10)
            message.weight = 60.0
            message.category = [ExerciseCategory.SQUAT.value]
            message.weight_display_unit = FitBaseUnit.KILOGRAM.value
        builder.add(message)
    for session in sessions:
        message = SessionMessage()
        message.start_time = _ms(session.start)
        if session.timestamp is not None:
            message.timestamp = _ms(session.timestamp)
        if session.elapsed_s is not None:
            message.total_elapsed_time = session.elapsed_s
        if session.timer_s is not None:
            message.total_timer_time = session.timer_s
        message.sport = session.sport.value
        message.sub_sport = (
            SubSport.STRENGTH_TRAINING if session.sport == Sport.TRAINING else SubSport.GENERIC
        ).value
        builder.add(message)
    path.parent.mkdir(parents=True, exist_ok=True)
    builder.build().to_file(str(path))
    return path


def starts(path: Path) -> list[str]:
    return sorted(read(path).rows.filter(~REJECTED)["performed_at"].to_list())


def iso(*minutes: float) -> list[str]:
    return [at(m).isoformat() for m in minutes]


FOUR = [at(1), at(5), at(10), at(20)]


def test_without_total_elapsed_time_the_timestamp_ends_the_session(tmp_path: Path) -> None:
    path = write(tmp_path / "a.fit", FOUR, [Session(timestamp=at(30))], rests=[at(2), at(6)])
    parsed = read(path)
    assert starts(path) == iso(1, 5, 10, 20)
    assert parsed.rows["structure_error"].null_count() == 4 and parsed.skipped == 2


def test_with_only_total_timer_time(tmp_path: Path) -> None:
    # 25 minutes of timer: the set at minute 20 is in, the one at minute 27 is not.
    path = write(tmp_path / "a.fit", [*FOUR, at(27)], [Session(timer_s=25 * 60)])
    parsed = read(path)
    assert starts(path) == iso(1, 5, 10, 20)
    (reason,) = parsed.rows.filter(REJECTED)["structure_error"].to_list()
    assert reason.startswith(f"outside_strength_session: the set at {at(27).isoformat()}")


def test_without_any_length_the_last_record_ends_the_session(tmp_path: Path) -> None:
    records = [at(m) for m in range(0, 16)]  # the watch recorded until minute 15
    path = write(tmp_path / "a.fit", FOUR, [Session()], records=records)
    assert starts(path) == iso(1, 5, 10)
    assert read(path).rows.filter(REJECTED).height == 1


def test_without_length_or_records_the_last_set_ends_the_session(tmp_path: Path) -> None:
    path = write(tmp_path / "a.fit", FOUR, [Session()], rests=[at(21)])
    assert starts(path) == iso(1, 5, 10, 20)


def test_a_timestamp_not_after_the_start_is_no_end(tmp_path: Path) -> None:
    # The real multisport file stamps its strength session with the file's start.
    session = Session(start=at(0), timestamp=at(-10), timer_s=30 * 60)
    assert starts(write(tmp_path / "a.fit", FOUR, [session])) == iso(1, 5, 10, 20)


def test_records_of_a_later_session_do_not_lengthen_a_strength_session(tmp_path: Path) -> None:
    sessions = [Session(), Session(start=at(30), sport=Sport.RUNNING, elapsed_s=600)]
    records = [at(m) for m in range(0, 40)]
    path = write(tmp_path / "a.fit", [at(1), at(12), at(32)], sessions, records=records)
    parsed = read(path)
    assert starts(path) == iso(1, 12)
    (reason,) = parsed.rows.filter(REJECTED)["structure_error"].to_list()
    assert at(32).isoformat() in reason and "outside_strength_session" in reason


def test_active_sets_outside_strength_sessions_are_rejects_rests_are_skipped(
    workspace: Workspace,
) -> None:
    sessions = [
        Session(start=at(0), elapsed_s=15 * 60),
        Session(start=at(30), sport=Sport.CYCLING, elapsed_s=600),
    ]
    # Minute 20: between the sessions; minute 35: during the ride; rests outside too.
    active = [at(1), at(5), at(20), at(35)]
    path = write(
        workspace.inbox / "g1" / "a.fit", active, sessions, rests=[at(2), at(21), at(36), at(50)]
    )
    assert detect(path.read_bytes()[:64]).FORMAT == "garmin_fit"
    summary = pipeline.execute(
        workspace.config(), discovery.inbox_files(workspace.config())[0], "ingest", None
    )
    ((_, outcome),) = summary.files
    assert (outcome.loaded, outcome.rejected, outcome.skipped) == (2, 2, 4)
    rejects = workspace.query("SELECT errors FROM rejects ORDER BY source_line")
    messages = [json.loads(errors)[0]["message"] for (errors,) in rejects]
    for message, moment in zip(messages, [at(20), at(35)], strict=True):
        assert message == (
            f"outside_strength_session: the set at {moment.isoformat()} "
            "is outside every strength session of the file"
        )
    stored = workspace.query("SELECT performed_at, set_index FROM sets ORDER BY 1")
    assert [(p.isoformat(), i) for p, i in stored] == [(iso(1)[0], 1), (iso(5)[0], 2)]


def test_a_file_without_strength_sessions_rejects_its_active_sets(tmp_path: Path) -> None:
    path = write(tmp_path / "a.fit", [at(1)], [Session(sport=Sport.RUNNING, elapsed_s=600)])
    parsed = read(path)
    assert parsed.rows["structure_error"].to_list() == [
        f"outside_strength_session: the set at {at(1).isoformat()} is outside every strength "
        "session of the file; the file has none"
    ]


def test_a_set_without_a_set_type_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path / "a.fit", [at(1)], [Session(elapsed_s=600)], untyped=[at(3)])
    parsed = read(path)
    assert parsed.rows["structure_error"].to_list() == [
        None,
        "unknown_set_type: the set's set_type is None, neither active nor rest",
    ]


def test_an_active_set_of_no_reps_is_a_timed_set(tmp_path: Path) -> None:
    # Garmin writes 0 repetitions for a hold it timed (a plank): a timed set, reps empty.
    path = write(tmp_path / "a.fit", [at(1), at(3)], [Session(elapsed_s=600)], reps={at(3): 0})
    parsed = read(path)
    assert parsed.rows["reps"].to_list() == ["10", None]
    assert parsed.rows["duration_s"].to_list() == ["40.0", "40.0"]
    assert parsed.rows["set_index"].to_list() == ["1", "2"]


@needs_real_data
@pytest.mark.parametrize(
    "missing",
    [
        (),
        ("total_elapsed_time",),
        ("total_elapsed_time", "timestamp"),
        ("total_elapsed_time", "timestamp", "total_timer_time"),
    ],
    ids=["as-is", "no-elapsed", "no-elapsed-no-timestamp", "records-only"],
)
def test_real_file_keeps_its_sets_whatever_the_session_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    from garmin_fit_sdk import Decoder, Stream

    messages, _ = Decoder(Stream.from_file(str(REAL_FIT))).read()
    active = sorted(
        str(m["start_time"]) for m in messages["set_mesgs"] if m["set_type"] == "active"
    )
    real_decode = garmin_fit._decode

    def decode_without(path: Path) -> dict[str, list[dict[str, Any]]]:
        decoded = real_decode(path)
        for session in decoded["session_mesgs"]:
            for name in missing:
                session.pop(name, None)
        return decoded

    monkeypatch.setattr(garmin_fit, "_decode", decode_without)
    shutil.copy(REAL_FIT, tmp_path / "a.fit")
    parsed = read(tmp_path / "a.fit")
    assert parsed.rows["structure_error"].null_count() == parsed.rows.height == len(active) == 41
    stored = sorted(str(datetime.fromisoformat(p)) for p in parsed.rows["performed_at"])
    assert stored == active
    assert parsed.skipped == len(messages["set_mesgs"]) - len(active)
