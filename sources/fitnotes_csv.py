"""FitNotes (Android) CSV exports: a date without a time, no set number, units per row.

Both headers exist: `Weight,Weight Unit` and the older `Weight (kgs)` / `Weight (lbs)`. A day
is one session and sets are numbered in row order within the day and exercise.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sources.base import TRACE_COLUMNS, Parsed
from sources.columns import clock_seconds, find, metres, scaled, set_numbers, text
from sources.csv_text import first_line, header_names, read_table

FORMAT = "fitnotes_csv"
SIGNATURE = ("date", "exercise", "category", "reps")
UNITS = {"kgs": "kg", "kg": "kg", "lbs": "lb", "lb": "lb"}


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    has_weight = "weight" in names or any(re.fullmatch(r"weight \((kgs|lbs)\)", n) for n in names)
    return has_weight and all(name in names for name in SIGNATURE)


def read(path: Path) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    weight = find(header, "weight", "weight (kgs)", "weight (lbs)")
    weight_unit = find(header, "weight unit")
    if weight_unit:
        unit = (
            text(weight_unit)
            .str.to_lowercase()
            .replace_strict(UNITS, default=None, return_dtype=pl.String)
        )
    else:
        match = re.search(r"\((kgs|lbs)\)", (weight or "").lower())
        unit = pl.lit(UNITS[match.group(1)] if match else None, pl.String)
    day = text(find(header, "date"))
    exercise = pl.col(find(header, "exercise") or "")
    distance_unit = find(header, "distance unit")
    rows = table.rows.select(
        *TRACE_COLUMNS,
        session_key=day,
        performed_at=day,
        exercise=exercise,
        set_index=set_numbers(day, exercise.str.to_lowercase()),
        reps=text(find(header, "reps")),
        load=scaled(text(weight), 1.0),
        unit=unit,
        duration_s=clock_seconds(text(find(header, "time"))),
        distance_m=metres(
            text(find(header, "distance")), text(distance_unit) if distance_unit else pl.lit("km")
        ),
    )
    return Parsed(format=FORMAT, rows=rows)
