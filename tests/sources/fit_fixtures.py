"""FIT files for tests, written with fit-tool: strength sessions with chosen sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.file_id_message import FileIdMessage
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

START = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FitSet:
    reps: int | None
    weight_kg: float | None = 0.0
    category: ExerciseCategory | None = ExerciseCategory.SQUAT
    subtype: int | None = None
    pounds: bool = False
    active: bool = True


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def write_fit(
    path: Path, sets: list[FitSet], sport: Sport = Sport.TRAINING, serial: int = 3486
) -> Path:
    builder = FitFileBuilder(auto_define=True, min_string_size=50)
    file_id = FileIdMessage()
    file_id.type = FileType.ACTIVITY
    file_id.manufacturer = Manufacturer.GARMIN.value
    file_id.product = 4315
    file_id.serial_number = serial
    file_id.time_created = _ms(START)
    builder.add(file_id)
    moment = START
    for index, item in enumerate(sets):
        message = SetMessage()
        message.start_time = _ms(moment)
        message.timestamp = _ms(moment)
        message.duration = 40.0
        message.set_type = (SetType.ACTIVE if item.active else SetType.REST).value
        message.message_index = index
        if item.active:
            if item.reps is not None:
                message.repetitions = item.reps
            if item.weight_kg is not None:
                message.weight = item.weight_kg
            if item.category is not None:
                message.category = [item.category.value]
            if item.subtype is not None:
                message.category_subtype = [item.subtype]
            message.weight_display_unit = (
                FitBaseUnit.POUND if item.pounds else FitBaseUnit.KILOGRAM
            ).value
        builder.add(message)
        moment += timedelta(minutes=2)
    session = SessionMessage()
    session.start_time = _ms(START)
    session.timestamp = _ms(moment)
    session.total_elapsed_time = (moment - START).total_seconds() + 60
    session.sport = sport.value
    session.sub_sport = (
        SubSport.STRENGTH_TRAINING if sport == Sport.TRAINING else SubSport.GENERIC
    ).value
    builder.add(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    builder.build().to_file(str(path))
    return path
