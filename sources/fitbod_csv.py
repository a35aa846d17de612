"""Fitbod's `WorkoutExport.csv`: one row a set, no set number and no workout name.

`Date,Exercise,Reps,Weight(kg),Duration(s),Distance(m),Incline,Resistance,isWarmup,Note,
multiplier`. `Date` is the workout's start with an offset (`2022-01-05 22:06:49 +0000`), the
same on every set of the workout; values may carry a leading space (` 5`); weights are kg, often
converted from lb with 1/2.20462 (`7.937875915123695` = 17.5 lb).

The 2019 export is `Date,Exercise,Sets,Reps,Weight,isWarmup,Note`: a date without a time, `Sets`
always 1 (one row a set), `Weight` in kg converted from lb (`6.803893642`), `isWarmup` `TRUE` or
empty. Its day is its session.
"""

from __future__ import annotations

import re

import polars as pl

from sources import sets, timestamps, units
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import find, metres, scaled, text
from sources.content import Source
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "fitbod_csv"
# The 2019 layout failed as a whole before it was read: a failed file is read again by the next
# run, so what is stored from the same bytes did not change.
VERSION = 1
SIGNATURE = ("date", "exercise", "reps", "iswarmup")
WEIGHT_UNITS = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}


def _weight_column(header: list[str]) -> str | None:
    """`Weight(kg)`, or the 2019 layout's plain `Weight`."""
    return next((c for c in header if re.match(r"weight\s*(\(|$)", c.strip().lower())), None)


def _unit_in(cell: str | None) -> str | None:
    match = re.search(r"\(\s*(\w+)\s*\)", cell or "")
    return match.group(1).lower() if match else None


def detect(head: bytes) -> bool:
    names = header_names(first_line(head), ",")
    return all(name in names for name in SIGNATURE) and _weight_column(names) is not None


def read(path: Source, hints: ReadHints) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    weight = _weight_column(header)
    if weight is None or find(header, "reps") is None or find(header, "date") is None:
        raise UnreadableFile("a Fitbod export without Date, Reps or Weight columns")
    # The header names the units (`Weight(kg)`, `Distance(m)`): a `Weight(lbs)` is read in lb.
    # The 2019 layout's `Weight` names none, and is kg.
    named = _unit_in(weight)
    weight_unit = WEIGHT_UNITS.get(named or "kg")
    if weight_unit is None:
        raise UnreadableFile(f"a Fitbod export whose weight column {weight!r} names no kg or lb")
    distance = next((c for c in header if c.strip().lower().startswith("distance")), None)
    duration = next((c for c in header if c.strip().lower().startswith("duration")), None)
    start = text(find(header, "date"))
    started = table.rows[find(header, "date") or ""]
    dates = timestamps.decide_order(started, hints, FORMAT)
    exercise = text(find(header, "exercise"))
    warmup = text(find(header, "iswarmup"))
    frame = _one_set_a_row(table.rows, find(header, "sets")).select(
        *TRACE_COLUMNS,
        # The same Date stamps every set of a workout (one contiguous block per workout, several
        # workouts on some days): it is the workout's start, so the session key.
        **{SESSION_KEY: start},
        performed_at=timestamps.iso(started, dates.order),
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
    read_in, decided = units.resolve(sets.numbered(rows), hints, FORMAT)
    return Parsed(format=FORMAT, rows=read_in, skipped=skipped, decisions=dates.on(decided))


def _one_set_a_row(rows: pl.DataFrame, sets_column: str | None) -> pl.DataFrame:
    """The 2019 layout's `Sets` is 1 on every row: a row is a set. Another count is not read
    as that many sets: the row is rejected with the value."""
    if sets_column is None:
        return rows
    count = text(sets_column)
    other = ~(count.is_null() | (count == "") | count.str.contains(r"^1(?:\.0*)?$"))
    return rows.with_columns(
        structure_error=pl.coalesce(
            "structure_error",
            pl.when(other).then(
                pl.format("Sets is '{}': a row is one set in this export (Fitbod writes 1)", count)
            ),
        )
    )
