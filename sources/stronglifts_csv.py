"""StrongLifts 5x5's spreadsheet export: wide, one row a workout.

`Date,Note,Body Weight (KG),Body Weight (LB)`, then per exercise slot `Exercise N,Weight (KG),
Weight (LB),Set 1,…,Set 5`: the reps done in each set, an empty cell a set not done. A workout
has three to five slots, and the header may stop short of the last slot's sets. The load is in
whichever weight column is filled, which gives its unit; where neither is (a bodyweight lift),
the body weight's column gives it. Dates are in the phone's order (`05/16/18` month first,
`19/11/18` day first), decided per file. The body weight itself is no set and is not stored.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sources import sets, timestamps, units
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import blank, scaled, text
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "stronglifts_csv"
VERSION = 1
_EXERCISE = r"exercise\s*\d+"
_SET = r"set\s*\d+"


def _named(cell: str, pattern: str) -> bool:
    return re.fullmatch(pattern, re.sub(r"__\d+$", "", cell.strip().lower())) is not None


def _weight(cell: str) -> str | None:
    """`kg` or `lb` for a `Weight (KG)` or `Weight (LB)` column, else None."""
    found = re.fullmatch(
        r"(?:body\s*)?weight\s*\((kgs?|lbs?)\)", re.sub(r"__\d+$", "", cell.lower())
    )
    return None if found is None else found.group(1).rstrip("s")


def detect(head: bytes) -> bool:
    names = header_names(first_line(head), ",")
    return (
        bool(names)
        and names[0] == "date"
        and any(_named(n, _EXERCISE) for n in names)
        and any(_named(n, _SET) for n in names)
        and any(_weight(n) for n in names)
    )


def _slots(header: list[str]) -> list[tuple[str, dict[str, str], list[str]]]:
    """Per exercise slot: its exercise column, its weight columns by unit, its set columns."""
    starts = [i for i, cell in enumerate(header) if _named(cell, _EXERCISE)]
    slots = []
    for start, end in zip(starts, [*starts[1:], len(header)], strict=True):
        cells = header[start + 1 : end]
        weights = {unit: cell for cell in cells if (unit := _weight(cell))}
        slots.append((header[start], weights, [c for c in cells if _named(c, _SET)]))
    return slots


def _number(cell: str | None) -> pl.Expr:
    """A weight as written, a decimal comma read as a point; null where the cell is empty."""
    value = text(cell)
    return pl.when(~blank(value)).then(
        scaled(value.str.replace(r"^(\d+),(\d+)$", "${1}.${2}"), 1.0)
    )


def _filled(weights: dict[str, str], otherwise: pl.Expr) -> pl.Expr:
    """The unit of the weight column that is filled (kg first), else `otherwise`."""
    return (
        pl.when(~blank(text(weights.get("kg"))))
        .then(pl.lit("kg"))
        .when(~blank(text(weights.get("lb"))))
        .then(pl.lit("lb"))
        .otherwise(otherwise)
    )


def read(path: Path, hints: ReadHints) -> Parsed:
    # A row leaves out its empty last cells: it may stop short of the header.
    table = read_table(path.read_bytes(), ",", ragged=True)
    header = table.header
    slots = _slots(header)
    if header[0].strip().lower() != "date" or not slots:
        raise UnreadableFile("a StrongLifts export without its Date and Exercise columns")
    body = {unit: c for c in header[: header.index(slots[0][0])] if (unit := _weight(c))}
    body_unit = _filled(body, pl.lit(None, pl.String))
    rows = table.rows
    intact = rows.filter(pl.col("structure_error").is_null())
    date = text(header[0])
    parts = [
        intact.select(
            *TRACE_COLUMNS,
            date=date,
            exercise=text(exercise),
            reps=text(cell),
            load=pl.coalesce(_number(weights.get("kg")), _number(weights.get("lb"))),
            unit=_filled(weights, body_unit),
            position=pl.lit(slot * 100 + number),
        )
        for slot, (exercise, weights, set_cells) in enumerate(slots)
        for number, cell in enumerate(set_cells)
    ]
    done = pl.concat(parts).filter(~blank(pl.col("exercise")) & ~blank(pl.col("reps")))
    # A broken row stays one row, to be rejected once with why.
    broken = rows.filter(pl.col("structure_error").is_not_null()).select(
        *TRACE_COLUMNS, date=date, position=pl.lit(0)
    )
    every = pl.concat([done, broken], how="diagonal_relaxed").sort("source_line", "position")
    dates = timestamps.decide_order(every["date"], hints, FORMAT)
    frame = every.select(
        *TRACE_COLUMNS,
        **{SESSION_KEY: "date"},
        performed_at=timestamps.iso(every["date"], dates.order),
        exercise="exercise",
        reps="reps",
        load="load",
        unit="unit",
    )
    found, unlogged = sets.only_sets(frame)
    read_in, decided = units.resolve(sets.numbered(found), hints, FORMAT)
    return Parsed(format=FORMAT, rows=read_in, skipped=unlogged, decisions=dates.on(decided))
