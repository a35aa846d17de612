"""Strong (iOS/Android) CSV exports, in every layout Strong has written and every app language.

The headers are translated with the app (`Datum`, `Nom de l'exercice`, `Ordre de la série`), so
a layout is recognised by its structure: the column count and order of a layout Strong writes,
the first column a timestamp (in 6.x, a workout number), and the shapes of the values. Header
names are a hint that breaks ties and lets an English header come in any order. Units come from
header tokens in any language (`Weight (kg)`, or the 2016 layout's `kg`/`lbs` column names).

Strong stamps every set with the workout's start, so a workout is one session and sets are
numbered in file order within it. Rest timers and notes are not sets (sources.sets says what is).
"""

from __future__ import annotations

import re

import polars as pl

from sources import sets, timestamps, units
from sources.base import TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import metres, scaled, text
from sources.content import Source
from sources.csv_text import UnreadableFile, first_line, read_table

FORMAT = "strong_csv"
# 2: layouts by structure (any language, 2016), set-type markers, the shared set rule.
# 3: the unit of a file that names none decided from its loads (sources.units); layouts with
# their last columns missing; timestamps through sources.timestamps.
VERSION = 3
# English pseudo-rows; in other languages a rest timer is known by its shape (`_rest_timer`).
PSEUDO_ROWS = ("rest timer", "note")
# The layouts Strong has written, as the role of each column in order.
LAYOUTS = (
    # classic, with and without notes (2020 on)
    ("date", "workout", "duration", "exercise", "order", "weight", "reps", "distance", "seconds",
     "notes", "workout_notes", "rpe"),
    ("date", "workout", "duration", "exercise", "order", "weight", "reps", "distance", "seconds",
     "rpe"),
    # legacy (2019): no Duration
    ("date", "workout", "exercise", "order", "weight", "reps", "distance", "seconds", "notes",
     "workout_notes", "rpe"),
    ("date", "workout", "exercise", "order", "weight", "reps", "distance", "seconds", "notes",
     "workout_notes"),
    # 2016: the unit is the column's name (`kg`/`lbs`, `km`/`mi`); Set Order from 0
    ("date", "workout", "exercise", "order", "weight", "reps", "distance", "seconds", "notes"),
    # a unit column, with or without the workout's duration at the end
    ("date", "workout", "exercise", "order", "weight", "weight_unit", "reps", "rpe", "distance",
     "distance_unit", "seconds", "notes", "workout_notes"),
    ("date", "workout", "exercise", "order", "weight", "weight_unit", "reps", "rpe", "distance",
     "distance_unit", "seconds", "notes", "workout_notes", "workout_duration"),
    # 6.x: a workout number first, the units in the header
    ("workout_number", "date", "workout", "duration", "exercise", "order", "weight", "reps", "rpe",
     "distance", "seconds", "notes", "workout_notes"),
)  # fmt: skip
# Header names seen per role, lower-cased, in the languages we have met. Only a hint.
NAMES = {
    "date": ("date", "datum", "fecha", "data"),
    "workout_number": ("workout #",),
    "workout": ("workout name", "nom de l'entraînement", "workout-name", "trainingsname"),
    "exercise": ("exercise name", "nom de l'exercice", "name der übung", "übungsname"),
    "order": ("set order", "ordre de la série", "satzreihenfolge", "satz-reihenfolge"),
    "weight": ("weight", "poids", "gewicht", "kg", "lbs", "lb"),
    "weight_unit": ("weight unit",),
    "reps": ("reps", "réps", "wdh.", "wiederholungen"),
    "distance": ("distance", "distanz", "entfernung", "km", "mi"),
    "distance_unit": ("distance unit",),
    "seconds": ("seconds", "secondes", "sekunden"),
    "rpe": ("rpe",),
}
# An English header of any column order is read by name when it has these.
REQUIRED = ("date", "exercise", "order", "weight", "reps")
# Strong writes these on every row (a weight of 0, reps of 0): a column empty throughout is not one.
FILLED = ("date", "weight", "reps")
# Shapes of the values in a role's column (stripped; empty always fits).
_NUMBER = r"-?\d+(?:[.,]\d+)?"
SHAPES = {
    "date": r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?",
    "workout_number": r"\d+",
    # a number, a marker (`W`, `WARM_UP`) or a translated pseudo-row (`Ruhezeit`): no digits
    "order": r"\d+|\D+",
    "weight": _NUMBER,
    "reps": _NUMBER,
    "distance": _NUMBER,
    "seconds": _NUMBER,
    "rpe": _NUMBER,
    "weight_unit": r"(?i:kgs?|lbs?)",
    "distance_unit": r"(?i:km|mi|miles|m|meters|metres)",
}
SAMPLE_ROWS = 200
WEIGHT_UNITS = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}
DISTANCE_UNITS = {unit: unit for unit in ("km", "mi", "miles", "m", "meters")}


def _separator(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


def _cell_name(cell: str) -> str:
    return cell.strip().strip('"').strip().lower()


def _by_name(header: list[str]) -> dict[str, str] | None:
    """Roles found by their header names in any column order, when the header names them all."""
    roles: dict[str, str] = {}
    for cell in header:
        name = _cell_name(cell)
        bare = re.sub(r"\s*\(.*\)$", "", name)  # `Weight (kg)`, `Distance (meters)`
        role = next((r for r, names in NAMES.items() if name in names or bare in names), None)
        if role is not None:
            roles.setdefault(role, cell)
    return roles if all(role in roles for role in REQUIRED) else None


def _fits(values: pl.Series, role: str) -> bool:
    shape = SHAPES.get(role)
    if shape is None:
        return True
    filled = values.drop_nulls().str.strip_chars()
    filled = filled.filter(filled != "")
    return (role not in FILLED or filled.len() > 0) and bool(
        filled.str.contains(f"^(?:{shape})$").all()
    )


def _layouts(width: int) -> list[tuple[str, ...]]:
    """The layouts of `width` columns: each known layout, or one whose last columns are
    missing, as long as it keeps every required role."""
    cut = [layout[:width] for layout in LAYOUTS if len(layout) >= width]
    kept = [layout for layout in cut if all(role in layout for role in REQUIRED)]
    return list(dict.fromkeys(kept))


def _by_structure(header: list[str], sample: pl.DataFrame) -> dict[str, str] | None:
    """Roles from the first layout of the header's width whose columns hold values of the right
    shapes, preferring the one whose names agree most with the header."""
    best: tuple[int, dict[str, str]] | None = None
    for layout in _layouts(len(header)):
        if sample.height == 0:
            continue
        if not all(_fits(sample[cell], role) for cell, role in zip(header, layout, strict=True)):
            continue
        hints = sum(
            _cell_name(cell) in NAMES.get(role, ())
            for cell, role in zip(header, layout, strict=True)
        )
        if best is None or hints > best[0]:
            best = (hints, dict(zip(layout, header, strict=True)))
    return None if best is None else best[1]


def _roles(header: list[str], rows: pl.DataFrame) -> dict[str, str] | None:
    sample = rows.filter(pl.col("structure_error").is_null()).head(SAMPLE_ROWS)
    return _by_name(header) or _by_structure(header, sample)


def detect(head: bytes) -> bool:
    line = first_line(head)
    separator = _separator(line)
    # The last line of the head may be cut short: leave it out of the sample.
    whole = head[: head.rfind(b"\n") + 1] if b"\n" in head else head
    try:
        table = read_table(whole, separator)
    except UnreadableFile:
        return False
    return _roles(table.header, table.rows) is not None


def _unit_token(cell: str | None, units: dict[str, str]) -> str | None:
    """A unit named in a header cell: `Weight (kg)`, `Poids (lbs)`, or the cell `kg` itself."""
    for token in re.findall(r"[^\W\d_]+", (cell or "").lower()):
        if token in units:
            return units[token]
    return None


def _rest_timer(order: pl.Expr, reps: pl.Expr, weight: pl.Expr, seconds: pl.Expr) -> pl.Expr:
    """A rest timer in any language: a set order that is not a number or a known marker, with
    no reps and no weight, only seconds."""
    word = ~order.str.contains(r"^\d+$") & ~order.str.to_lowercase().is_in(list(sets.MARKERS))
    return word & sets.nothing(reps) & sets.nothing(weight) & ~sets.nothing(seconds)


def read(path: Source, hints: ReadHints) -> Parsed:
    data = path.read_bytes()
    table = read_table(data, _separator(first_line(data[:65536])))
    roles = _roles(table.header, table.rows)
    if roles is None:
        raise UnreadableFile("a Strong export whose columns match no layout Strong writes")
    column = roles.get
    weight_unit, distance_unit = column("weight_unit"), column("distance_unit")
    unit = (
        text(weight_unit)
        if weight_unit
        else pl.lit(_unit_token(column("weight"), WEIGHT_UNITS), pl.String)
    )
    # Without a unit anywhere, Strong writes distance in km.
    distance_in = (
        text(distance_unit)
        if distance_unit
        else pl.lit(_unit_token(column("distance"), DISTANCE_UNITS) or "km")
    )
    order = text(column("order"))
    reps, seconds = text(column("reps")), text(column("seconds"))
    load, length = text(column("weight")), text(column("distance"))
    pseudo = order.str.to_lowercase().is_in(PSEUDO_ROWS) | _rest_timer(order, reps, load, seconds)
    rows = table.rows
    kept = rows.filter(pl.col("structure_error").is_not_null() | ~pseudo)
    session_key = text(column("date"))
    started = kept[column("date") or ""]
    dates = timestamps.decide_order(started, hints, FORMAT)
    exercise = pl.col(column("exercise") or "")
    canonical = kept.select(
        *TRACE_COLUMNS,
        session_key=session_key,
        performed_at=timestamps.iso(started, dates.order),
        exercise=exercise,
        set_type=pl.when(order.str.contains(r"^\d+$"))
        .then(pl.lit("working"))
        .otherwise(sets.set_type(order)),
        reps=reps,
        load=scaled(load, 1.0),
        unit=unit,
        rpe=text(column("rpe")),
        duration_s=seconds,
        distance_m=metres(length, distance_in),
    )
    found, unlogged = sets.only_sets(canonical)
    rows_read, decided = units.resolve(sets.numbered(found), hints, FORMAT)
    return Parsed(
        format=FORMAT,
        rows=rows_read,
        skipped=rows.height - kept.height + unlogged,
        decisions=dates.on(decided),
    )
