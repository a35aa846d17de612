"""Hevy CSV exports: `weight_kg` or `weight_lbs`, `distance_km` or `distance_miles`.

Dates read like `15 Sep 2025, 07:48`, or the US way, `Jun 11, 2026, 1:01 PM`; `set_index` is
0-based and restarts when an exercise appears twice in a workout, so sets are numbered in file
order within the workout instead.
A row with no reps, no time and no distance (a failed attempt logged as 0 reps) is not a set.
"""

from __future__ import annotations

import polars as pl

from sources import timestamps, units
from sources.base import TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import find, metres, scaled, set_numbers, text
from sources.content import Source
from sources.csv_text import first_line, header_names, read_table
from sources.sets import only_sets, set_type

FORMAT = "hevy_csv"
# 2: the shared set rule (a row with nothing measured is skipped, reps 0 with a time is a
# timed set), set-type markers through sources.sets, the lifter's unit.
# 3: timestamps in every unambiguous form (`Jun 11, 2026, 1:01 PM`), through sources.timestamps.
VERSION = 3
SIGNATURE = ("title", "start_time", "exercise_title", "set_index", "set_type", "reps")


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    return all(name in names for name in SIGNATURE)


def read(path: Source, hints: ReadHints) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    started = table.rows[find(header, "start_time") or ""]
    dates = timestamps.decide_order(started, hints, FORMAT)
    kg, lbs = find(header, "weight_kg"), find(header, "weight_lbs")
    km, miles = find(header, "distance_km"), find(header, "distance_miles")
    start = text(find(header, "start_time"))
    exercise = pl.col(find(header, "exercise_title") or "")
    frame = table.rows.select(
        *TRACE_COLUMNS,
        session_key=start,
        performed_at=timestamps.iso(started, dates.order),
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
    read_in, decided = units.resolve(frame, hints, FORMAT)
    rows, skipped = only_sets(read_in)
    return Parsed(format=FORMAT, rows=rows, skipped=skipped, decisions=dates.on(decided))
