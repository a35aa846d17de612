"""Garmin FIT activities, decoded by Garmin's own garmin-fit-sdk.

Only the `active` sets of strength sessions (sport `training`, sub-sport `strength_training`)
are sets; rest periods are skipped. The exercise is the watch's first guess of `category`, with
its `category_subtype` name from the FIT profile when there is one ("Hyperextension: Swiss Ball
Hyperextension"); an exercise the watch did not recognise is `Unknown`. FIT stores weight in kg;
`weight_display_unit` says which unit the athlete sees, and advice comes back in it. Decoding
is per message by nature; FIT files are small.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from garmin_fit_sdk import Decoder, Profile, Stream

from schemas.set_row import LB_TO_KG
from sources.base import Parsed, text_frame
from sources.csv_text import UnreadableFile

FORMAT = "garmin_fit"


def detect(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] == b".FIT"


def _decode(path: Path) -> dict[str, list[dict[str, Any]]]:
    decoder = Decoder(Stream.from_file(str(path)))
    if not decoder.is_fit():
        raise UnreadableFile("not a FIT file (no .FIT header)")
    if not decoder.check_integrity():
        raise UnreadableFile("the FIT file is damaged or truncated: its CRC does not match")
    decoder = Decoder(Stream.from_file(str(path)))
    messages, errors = decoder.read(convert_datetimes_to_dates=True)
    if errors:
        raise UnreadableFile(f"the FIT file could not be decoded: {errors[0]}")
    # The SDK's own typing says little; its messages are dicts of lists of dicts.
    decoded: dict[str, list[dict[str, Any]]] = messages  # type: ignore[assignment]
    return decoded


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def _first(value: Any) -> Any:
    """An array field's first value: the SDK gives a one-value array as the value itself."""
    return (value[0] if value else None) if isinstance(value, list) else value


def exercise_name(message: dict[str, Any]) -> str:
    """The watch's first guess, resolved through the FIT profile."""
    category = _first(message.get("category"))
    if not isinstance(category, str) or category == "unknown":
        return "Unknown"
    subtype = _first(message.get("category_subtype"))
    names = Profile["types"].get(f"{category}_exercise_name", {})
    if isinstance(subtype, int) and subtype in names:
        return f"{_title(category)}: {_title(names[subtype])}"
    return _title(category)


def _strength_windows(messages: dict[str, list[dict[str, Any]]]) -> list[tuple[datetime, datetime]]:
    windows = []
    for session in messages.get("session_mesgs", []):
        if session.get("sport") == "training" and session.get("sub_sport") == "strength_training":
            start = session["start_time"]
            length = timedelta(seconds=float(session.get("total_elapsed_time") or 0))
            windows.append((start, start + length))
    return windows


def _display_unit(message: dict[str, Any]) -> str:
    return "lb" if message.get("weight_display_unit") == "pound" else "kg"


def read(path: Path) -> Parsed:
    messages = _decode(path)
    serial = next((m.get("serial_number") for m in messages.get("file_id_mesgs", [])), None)
    windows = _strength_windows(messages)
    rows: list[dict[str, Any]] = []
    skipped = 0
    for number, message in enumerate(messages.get("set_mesgs", []), 1):
        start = message.get("start_time")
        window = next((w for w in windows if start and w[0] <= start <= w[1]), None)
        if start is None or window is None or message.get("set_type") != "active":
            skipped += 1
            continue
        unit = _display_unit(message)
        weight = message.get("weight")
        load = None if weight is None else round(weight / LB_TO_KG if unit == "lb" else weight, 6)
        rows.append(
            {
                "source_line": message.get("message_index", number),
                "raw": json.dumps(message, default=str),
                "structure_error": None,
                "session_key": window[0].isoformat(),
                "performed_at": start.isoformat(),
                "exercise": exercise_name(message),
                "reps": None if message.get("repetitions") is None else str(message["repetitions"]),
                "load": None if load is None else str(load),
                "unit": unit,
                "duration_s": None if message.get("duration") is None else str(message["duration"]),
                "device_id": None if serial is None else str(serial),
            }
        )
    frame = text_frame(rows)
    numbered = frame.with_columns(
        set_index=(pl.int_range(pl.len()).over("session_key", "exercise") + 1).cast(pl.String)
    )
    return Parsed(format=FORMAT, rows=numbered, skipped=skipped)
