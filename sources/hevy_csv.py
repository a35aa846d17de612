"""Hevy CSV exports: `weight_kg` or `weight_lbs`, `distance_km` or `distance_miles`.

Dates read like `15 Sep 2025, 07:48`; `set_index` is 0-based and restarts when an exercise
appears twice in a workout, so sets are numbered in file order within the workout instead.
A row with no reps, no time and no distance (a failed attempt logged as 0 reps) is not a set.
"""

from __future__ import annotations

import polars as pl

from sources.base import TRACE_COLUMNS, Parsed
from sources.columns import find, metres, scaled, set_numbers, text, timestamp
from sources.content import Source
from sources.csv_text import first_line, header_names, read_table
from sources.sets import lifter_units, only_sets, set_type

FORMAT = "hevy_csv"
# 2: the shared set rule (a row with nothing measured is skipped, reps 0 with a time is a
# timed set), set-type markers through sources.sets, the lifter's unit.
VERSION = 2
SIGNATURE = ("title", "start_time", "exercise_title", "set_index", "set_type", "reps")
DATE_FORMATS = ["%d %b %Y, %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    return all(name in names for name in SIGNATURE)


def read(path: Source) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    kg, lbs = find(header, "weight_kg"), find(header, "weight_lbs")
    km, miles = find(header, "distance_km"), find(header, "distance_miles")
    start = text(find(header, "start_time"))
    exercise = pl.col(find(header, "exercise_title") or "")
    frame = table.rows.select(
        *TRACE_COLUMNS,
        session_key=start,
        performed_at=timestamp(start, DATE_FORMATS),
        exercise=exercise,
        # Numbered before the rows that are not sets are left out, as before they were: the
        # stored keys of the sets after them do not move.
        set_index=set_numbers(start, exercise.str.to_lowercase()),
        # `normal`, `warmup`, `failure`, `dropset`; any other marker is passed on and rejected.
        set_type=set_type(text(find(header, "set_type"))),
        reps=text(find(header, "reps")),
        load=scaled(text(lbs or kg), 1.0),
        unit=pl.lit("lb" if lbs else "kg"),
        rpe=text(find(header, "rpe")),
        duration_s=text(find(header, "duration_seconds")),
        distance_m=metres(text(miles or km), pl.lit("mi" if miles else "km")),
    )
    rows, skipped = only_sets(lifter_units(frame))
    return Parsed(format=FORMAT, rows=rows, skipped=skipped)
