"""Fitbod's `WorkoutExport.csv`: one row a set, no set number and no workout name.

`Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,Resistance,isWarmup,Note,
multiplier`. `Date` is the workout's start with an offset (`2022-01-05 22:06:49 +0000`), the
same on every set of the workout; values may carry a leading space (` 5`); weights are kg, often
converted from lb with 1/2.20462 (`7.937875915123695` = 17.5 lb).
"""

from __future__ import annotations

import re

import polars as pl

from sources import sets
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed
from sources.columns import find, metres, scaled, text
from sources.content import Source
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "fitbod_csv"
VERSION = 1
SIGNATURE = ("date", "exercise", "reps", "iswarmup")
# `2022-01-05 22:06:49 +0000` as ISO 8601 (`2022-01-05T22:06:49+0000`), the offset kept so the
# instant is exact; text of any other shape stays as written, for the contract to reject.
_DATE = r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*([+-]\d{2}:?\d{2}|[zZ])?$"


def _weight_column(header: list[str]) -> str | None:
    return next((cell for cell in header if re.match(r"weight\s*\(", cell.strip().lower())), None)


def _unit_in(cell: str | None) -> str | None:
    match = re.search(r"\(\s*(\w+)\s*\)", cell or "")
    return match.group(1).lower() if match else None


def detect(head: bytes) -> bool:
    names = header_names(first_line(head), ",")
    return all(name in names for name in SIGNATURE) and _weight_column(names) is not None


def read(path: Source) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    weight = _weight_column(header)
    if weight is None or find(header, "reps") is None or find(header, "date") is None:
        raise UnreadableFile("a Fitbod export without Date, Reps or Weight columns")
    # The header names the units (`Weight(kg)`, `Distance(m)`): a `Weight(lbs)` is read in lb.
    weight_unit = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}.get(_unit_in(weight) or "")
    if weight_unit is None:
        raise UnreadableFile(f"a Fitbod export whose weight column {weight!r} names no kg or lb")
    distance = next((c for c in header if c.strip().lower().startswith("distance")), None)
    duration = next((c for c in header if c.strip().lower().startswith("duration")), None)
    start = text(find(header, "date"))
    exercise = text(find(header, "exercise"))
    warmup = text(find(header, "iswarmup"))
    frame = table.rows.select(
        *TRACE_COLUMNS,
        # The same Date stamps every set of a workout (one contiguous block per workout, several
        # workouts on some days): it is the workout's start, so the session key.
        **{SESSION_KEY: start},
        performed_at=start.str.replace(_DATE, "${1}T${2}${3}"),
        exercise=exercise,
        set_type=sets.warmup_flag(warmup),
        reps=text(find(header, "reps")),
        # `multiplier` (2.0 on dumbbell lifts) says how many implements: the load is as recorded.
        load=scaled(text(weight), 1.0),
        unit=pl.lit(weight_unit, pl.String),
        duration_s=scaled(text(duration), 1.0),
        distance_m=metres(text(distance), pl.lit(_unit_in(distance) or "m")),
    )
    rows, skipped = sets.only_sets(frame)
    return Parsed(format=FORMAT, rows=sets.lifter_units(sets.numbered(rows)), skipped=skipped)
