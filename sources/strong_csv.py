"""Strong (iOS/Android) CSV exports, in every layout Strong has written.

- comma, no unit anywhere (the unit comes from config), with or without `Duration`;
- a `Weight Unit` / `Distance Unit` column, `;` or `,`;
- 6.x: `;`, every field quoted, the unit in the header (`Weight (kg)`, `Distance (meters)`).

Strong stamps every set with the workout's start, so a workout is one session and sets are
numbered in file order within it. `Rest Timer` and `Note` rows are not sets; neither are rows
with nothing logged.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sources.base import TRACE_COLUMNS, Parsed
from sources.columns import blank, find, metres, scaled, set_numbers, text, timestamp
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "strong_csv"
SIGNATURE = ("date", "exercise name", "set order")
DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %H:%M"]
SET_TYPES = {"w": "warmup", "d": "drop", "f": "failure"}
PSEUDO_ROWS = ("rest timer", "note")


def _separator(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


def detect(head: bytes) -> bool:
    line = first_line(head)
    names = set(header_names(line, _separator(line)))
    return all(name in names for name in SIGNATURE)


def _unit_from_header(cell: str | None) -> str | None:
    match = re.search(r"\((\w+)\)", cell or "")
    return match.group(1).lower() if match else None


def read(path: Path) -> Parsed:
    data = path.read_bytes()
    table = read_table(data, _separator(first_line(data[:65536])))
    header = table.header
    weight = find(header, "weight", "weight (kg)", "weight (lbs)")
    distance = find(header, "distance", "distance (meters)", "distance (km)", "distance (miles)")
    if find(header, "reps") is None or weight is None:
        raise UnreadableFile("a Strong export without Reps or Weight columns")
    weight_unit = find(header, "weight unit")
    distance_unit = find(header, "distance unit")
    header_unit = _unit_from_header(weight)
    unit = (
        text(weight_unit)
        if weight_unit
        else pl.lit({"kg": "kg", "lbs": "lb"}.get(header_unit or ""), pl.String)
    )
    # Without a unit anywhere, Strong writes distance in km.
    distance_in = (
        text(distance_unit) if distance_unit else pl.lit(_unit_from_header(distance) or "km")
    )
    order = text(find(header, "set order")).str.to_lowercase()
    reps, seconds = text(find(header, "reps")), text(find(header, "seconds"))
    load, length = text(weight), text(distance)
    nothing = pl.lit(["", "0", "0.0"])
    timed = reps.is_in(nothing) & ~blank(seconds) & ~seconds.is_in(nothing)
    unlogged = (
        (blank(reps) | reps.is_in(nothing))
        & (blank(seconds) | seconds.is_in(nothing))
        & (blank(length) | length.is_in(nothing))
    )
    rows = table.rows
    skip = pl.col("structure_error").is_null() & (order.is_in(PSEUDO_ROWS) | unlogged)
    kept = rows.filter(~skip)
    session_key = text(find(header, "date"))
    exercise = pl.col(find(header, "exercise name") or "")
    canonical = kept.select(
        *TRACE_COLUMNS,
        session_key=session_key,
        performed_at=timestamp(session_key, DATE_FORMATS),
        exercise=exercise,
        set_index=set_numbers(session_key, exercise.str.to_lowercase()),
        set_type=order.replace_strict(SET_TYPES, default="working"),
        reps=pl.when(timed).then(pl.lit(None, pl.String)).otherwise(reps),
        load=scaled(load, 1.0),
        unit=unit,
        rpe=text(find(header, "rpe")),
        duration_s=pl.when(seconds.is_in(nothing)).then(pl.lit(None, pl.String)).otherwise(seconds),
        distance_m=pl.when(length.is_in(nothing))
        .then(pl.lit(None, pl.String))
        .otherwise(metres(length, distance_in)),
    )
    return Parsed(format=FORMAT, rows=canonical, skipped=rows.height - kept.height)
