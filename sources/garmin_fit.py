"""Garmin FIT activities, decoded by Garmin's own garmin-fit-sdk.

The `active` sets of strength sessions (sport `training`, sub-sport `strength_training`) are
sets; rests are skipped; an active set outside every strength session is rejected
(`outside_strength_session`), never dropped. The exercise is the watch's first guess of
`category` (with its `category_subtype` name from the FIT profile), `Unknown` when it had none.
FIT stores weight in kg; `weight_display_unit` is the unit the athlete sees and gets advice in.
Decoding is per message by nature: only the messages read are decoded (sources/fit_messages.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from garmin_fit_sdk import Decoder, Profile, Stream

from schemas.set_row import LB_TO_KG
from sources import fit_messages
from sources.base import Parsed, ReadHints, text_frame
from sources.content import Source
from sources.csv_text import UnreadableFile
from sources.sets import only_sets

FORMAT = "garmin_fit"
# 2: a session's end without total_elapsed_time; an active set outside every strength session
# is a reject, not skipped; reps 0 with a time is a timed set.
VERSION = 2


def detect(head: bytes) -> bool:
    return len(head) >= 12 and head[8:12] == b".FIT"


def _decode(path: Source) -> dict[str, list[dict[str, Any]]]:
    """The messages the reader reads. A session's last record is read only for a session that
    gives no end of its own (`_session_end`): a second decode, with the records."""
    data = path.read_bytes()
    decoder = Decoder(Stream.from_byte_array(bytearray(data)))
    if not decoder.is_fit():
        raise UnreadableFile("not a FIT file (no .FIT header)")
    if not decoder.check_integrity():
        raise UnreadableFile("the FIT file is damaged or truncated: its CRC does not match")
    wanted = frozenset({fit_messages.FILE_ID, fit_messages.SESSION, fit_messages.SET})
    messages = _messages(data, wanted)
    if any(_session_end(session, None, [], []) is None for session in _strength(messages)):
        messages = _messages(data, wanted | {fit_messages.RECORD})
    return messages


def _messages(data: bytes, wanted: frozenset[int]) -> dict[str, list[dict[str, Any]]]:
    cut = fit_messages.only(data, wanted)
    decoder = Decoder(Stream.from_byte_array(bytearray(data if cut is None else cut)))
    messages, errors = decoder.read(convert_datetimes_to_dates=True, enable_crc_check=cut is None)
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


def _when(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _session_end(
    session: dict[str, Any], later: datetime | None, records: list[datetime], sets: list[datetime]
) -> datetime | None:
    """Where a session ends: start + `total_elapsed_time`, else its `timestamp`, else start +
    `total_timer_time`, else its last record, else the end of its last set (records and sets
    taken before the `later` session starts). The FIT profile requires none of these fields,
    and a device may write a timestamp that is no end (the file's start): a value not after
    the start is passed over."""
    start: datetime = session["start_time"]

    def seconds(name: str) -> datetime | None:
        value = session.get(name)
        return start + timedelta(seconds=float(value)) if isinstance(value, int | float) else None

    def last(moments: list[datetime]) -> datetime | None:
        inside = [m for m in moments if m >= start and (later is None or m < later)]
        return max(inside, default=None)

    candidates = (
        seconds("total_elapsed_time"),
        _when(session.get("timestamp")),
        seconds("total_timer_time"),
        last(records),
        last(sets),
    )
    return next((end for end in candidates if end is not None and end > start), None)


def _strength_windows(messages: dict[str, list[dict[str, Any]]]) -> list[tuple[datetime, datetime]]:
    sessions = [s for s in messages.get("session_mesgs", []) if _when(s.get("start_time"))]
    starts = sorted(s["start_time"] for s in sessions)
    records = [t for m in messages.get("record_mesgs", []) if (t := _when(m.get("timestamp")))]
    set_ends = [
        start + timedelta(seconds=float(m.get("duration") or 0))
        for m in messages.get("set_mesgs", [])
        if (start := _when(m.get("start_time")))
    ]
    windows = []
    for session in _strength(messages):
        start = session["start_time"]
        later = next((s for s in starts if s > start), None)
        end = _session_end(session, later, records, set_ends)
        windows.append((start, end or start))
    return windows


def _strength(messages: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The strength sessions (sport `training`, sub-sport `strength_training`) with a start."""
    return [
        session
        for session in messages.get("session_mesgs", [])
        if _when(session.get("start_time"))
        and session.get("sport") == "training"
        and session.get("sub_sport") == "strength_training"
    ]


def _display_unit(message: dict[str, Any]) -> str:
    return "lb" if message.get("weight_display_unit") == "pound" else "kg"


def _misplaced(message: dict[str, Any], windows: list[tuple[datetime, datetime]]) -> str | None:
    """Why a set that is not a rest cannot be read as a set of a strength session, if it
    cannot: it is rejected with that reason, never dropped in silence."""
    kind, start = message.get("set_type"), _when(message.get("start_time"))
    if kind != "active":
        return f"unknown_set_type: the set's set_type is {kind!r}, neither active nor rest"
    if start is None:
        return "outside_strength_session: the active set has no start_time to place it by"
    if not any(begin <= start <= end for begin, end in windows):
        among = "; the file has none" if not windows else ""
        return (
            f"outside_strength_session: the set at {start.isoformat()} is outside every "
            f"strength session of the file{among}"
        )
    return None


def read(path: Source, hints: ReadHints) -> Parsed:
    """FIT states its times as instants and its loads in kg: no hint is needed."""
    messages = _decode(path)
    serial = next((m.get("serial_number") for m in messages.get("file_id_mesgs", [])), None)
    windows = _strength_windows(messages)
    rows: list[dict[str, Any]] = []
    rests = 0
    for number, message in enumerate(messages.get("set_mesgs", []), 1):
        if message.get("set_type") == "rest":
            rests += 1
            continue
        start = _when(message.get("start_time"))
        window = next((w for w in windows if start and w[0] <= start <= w[1]), None)
        unit = _display_unit(message)
        weight = message.get("weight")
        load = None if weight is None else round(weight / LB_TO_KG if unit == "lb" else weight, 6)
        rows.append(
            {
                "source_line": message.get("message_index", number),
                "raw": json.dumps(message, default=str),
                "structure_error": _misplaced(message, windows),
                "session_key": None if window is None else window[0].isoformat(),
                "performed_at": None if start is None else start.isoformat(),
                "exercise": exercise_name(message),
                "reps": None if message.get("repetitions") is None else str(message["repetitions"]),
                "load": None if load is None else str(load),
                "unit": unit,
                "duration_s": None if message.get("duration") is None else str(message["duration"]),
                "device_id": None if serial is None else str(serial),
            }
        )
    sets, unlogged = only_sets(text_frame(rows))
    placed = pl.col("structure_error").is_null()
    numbered = sets.with_columns(
        set_index=pl.when(placed)
        .then(pl.int_range(pl.len()).over("session_key", "exercise", placed) + 1)
        .cast(pl.String)
    )
    return Parsed(format=FORMAT, rows=numbered, skipped=rests + unlogged)
