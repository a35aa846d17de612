"""Hevy CSV exports: `weight_kg` or `weight_lbs`, `distance_km` or `distance_miles`.

Dates read like `15 Sep 2025, 07:48`; `set_index` is 0-based and restarts when an exercise
appears twice in a workout, so sets are numbered in file order within the workout instead.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sources.base import TRACE_COLUMNS, Parsed
from sources.columns import find, metres, scaled, set_numbers, text, timestamp
from sources.csv_text import first_line, header_names, read_table

FORMAT = "hevy_csv"
SIGNATURE = ("title", "start_time", "exercise_title", "set_index", "set_type", "reps")
DATE_FORMATS = ["%d %b %Y, %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
SET_TYPES = {"normal": "working", "warmup": "warmup", "failure": "failure", "dropset": "drop"}


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    return all(name in names for name in SIGNATURE)


def read(path: Path) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    kg, lbs = find(header, "weight_kg"), find(header, "weight_lbs")
    km, miles = find(header, "distance_km"), find(header, "distance_miles")
    start = text(find(header, "start_time"))
    exercise = pl.col(find(header, "exercise_title") or "")
    kind = text(find(header, "set_type")).str.to_lowercase()
    rows = table.rows.select(
        *TRACE_COLUMNS,
        session_key=start,
        performed_at=timestamp(start, DATE_FORMATS),
        exercise=exercise,
        set_index=set_numbers(start, exercise.str.to_lowercase()),
        set_type=kind.replace_strict(SET_TYPES, default=None, return_dtype=pl.String).fill_null(
            kind
        ),
        reps=text(find(header, "reps")),
        load=scaled(text(lbs or kg), 1.0),
        unit=pl.lit("lb" if lbs else "kg"),
        rpe=text(find(header, "rpe")),
        duration_s=text(find(header, "duration_seconds")),
        distance_m=metres(text(miles or km), pl.lit("mi" if miles else "km")),
    )
    return Parsed(format=FORMAT, rows=rows)
