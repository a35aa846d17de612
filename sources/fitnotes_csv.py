"""FitNotes (Android) CSV exports: a date without a time, no set number, units per row.

Both headers exist: `Weight,Weight Unit` and the older `Weight (kgs)` / `Weight (lbs)`. A day
is one session and sets are numbered in row order within the day and exercise. FitNotes does
not quote an exercise name that holds a comma (`Overhead Press (Each Side, Dumbbells)`), so
such a row has a field too many; distances come in m, km, mi, ft or yd. Each exercise's
`Category` (Chest, Back, Legs) is kept as the muscle group the file gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from sources import muscles, timestamps, units
from sources.base import TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import blank, clock_seconds, find, scaled, set_numbers, text
from sources.content import Source
from sources.csv_text import first_line, header_names, read_table, split_fields
from sources.sets import only_sets

FORMAT = "fitnotes_csv"
# 2: exercise names with an unquoted comma mended, the shared set rule, the lifter's unit,
# distances in ft and yd.
# 3: each exercise's Category kept as its muscle group; dates through sources.timestamps.
VERSION = 3
SIGNATURE = ("date", "exercise", "category", "reps")
UNITS = {"kgs": "kg", "kg": "kg", "lbs": "lb", "lb": "lb"}
# The distance units FitNotes offers, as it writes them.
METRES = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "yd": 0.9144}
_NUMBER = r"^[0-9]+(?:\.[0-9]+)?$"
_CLOCK = r"^[0-9]+(?:\.[0-9]+)?(?::[0-9]+(?:\.[0-9]+)?){0,2}$"
# The columns after the exercise that a mended row must read in, as FitNotes writes them.
_SHIFTED: list[tuple[tuple[str, ...], str, Callable[[pl.Expr], pl.Expr]]] = [
    (("weight", "weight (kgs)", "weight (lbs)"), "a number", lambda v: v.str.contains(_NUMBER)),
    (
        ("weight unit",),
        "a known unit (kg, kgs, lb, lbs)",
        lambda v: v.str.to_lowercase().is_in(list(UNITS)),
    ),
    (("reps",), "a whole number", lambda v: v.str.contains(r"^[0-9]+$")),
    (("distance",), "a number", lambda v: v.str.contains(_NUMBER)),
    (
        ("distance unit",),
        "a known distance unit (m, km, mi, ft, yd)",
        lambda v: v.str.to_lowercase().is_in(list(METRES)),
    ),
    (("time",), "a time (H:MM:SS)", lambda v: v.str.contains(_CLOCK)),
]


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    has_weight = "weight" in names or any(re.fullmatch(r"weight \((kgs|lbs)\)", n) for n in names)
    return has_weight and all(name in names for name in SIGNATURE)


def read(path: Source, hints: ReadHints) -> Parsed:
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
    mended = _join_exercise_commas(table.rows, header)
    days = mended[find(header, "date") or ""]
    dates = timestamps.decide_order(days, hints, FORMAT)
    frame = mended.select(
        *TRACE_COLUMNS,
        session_key=day,
        performed_at=timestamps.iso(days, dates.order),
        exercise=exercise,
        # Numbered before the rows that are not sets are left out, as before they were: the
        # stored keys of the sets after them do not move.
        set_index=set_numbers(day, exercise.str.to_lowercase()),
        reps=text(find(header, "reps")),
        load=scaled(text(weight), 1.0),
        unit=unit,
        duration_s=clock_seconds(text(find(header, "time"))),
        # Without a unit column (the older header), FitNotes wrote km.
        distance_m=_metres(
            text(find(header, "distance")), text(distance_unit) if distance_unit else pl.lit("km")
        ),
        category=text(find(header, "category")),
    )
    read_in, decided = units.resolve(frame.drop("category"), hints, FORMAT)
    rows, skipped = only_sets(read_in)
    return Parsed(
        format=FORMAT,
        rows=rows,
        skipped=skipped,
        decisions=dates.on(decided),
        muscles=muscles.given(frame, {"category": muscles.CATEGORY}),
    )


def _metres(distance: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """The distance in metres; with a unit we do not know, the value and unit as written, so
    the contract rejects the row rather than take feet for metres."""
    factor = unit.str.to_lowercase().replace_strict(METRES, default=None, return_dtype=pl.Float64)
    return (
        pl.when(blank(distance) | factor.is_not_null())
        .then(scaled(distance, factor))
        .when(blank(unit))
        .then(distance)
        .otherwise(pl.concat_str(distance, pl.lit(" "), unit))
    )


def _join_exercise_commas(rows: pl.DataFrame, header: list[str]) -> pl.DataFrame:
    """Rows with fields too many, mended where an unquoted comma in the exercise name is the
    cause: each extra field joins the name when every column after it then reads as FitNotes
    writes it (weight a number, a known unit, reps a whole number…) and something is left to
    read there. A row that does not mend keeps a structure error that says why."""
    exercise = find(header, "exercise")
    broken = rows.filter(pl.col("structure_error").is_not_null())
    if exercise is None or broken.height == 0:
        return rows
    at, width = header.index(exercise), len(header)
    # read_table keeps only the header's width of fields: split the row's text again.
    split = split_fields(broken.select(line="source_line", text="raw"), ",")
    fields = pl.col("fields")
    extra = fields.list.len().cast(pl.Int64) - width
    longer = split.filter(~pl.col("malformed") & (extra > 0)).with_columns(extra=extra)
    if longer.height == 0:
        return rows
    shift = pl.col("extra")
    cells = {
        name: fields.list.get(i)
        if i < at
        else fields.list.slice(at, shift + 1).list.join(",")
        if i == at
        else fields.list.get(i + shift)
        for i, name in enumerate(header)
    }
    mended = longer.select(
        pl.col("line").cast(rows.schema["source_line"]).alias("source_line"),
        raw="text",
        extra=shift,
        **cells,
    )
    return pl.concat(
        [
            rows.filter(~pl.col("source_line").is_in(mended["source_line"].implode())),
            mended.with_columns(structure_error=_mend_error(header, at)).select(rows.columns),
        ]
    ).sort("source_line")


def _mend_error(header: list[str], at: int) -> pl.Expr:
    """Null where the shifted columns read as FitNotes writes them; else why the row is not
    mended. A blank cell reads (a cardio row has no weight), but not every cell blank."""
    checks = [
        (column, what, blank(text(column)) | test(text(column)))
        for names, what, test in _SHIFTED
        if (column := find(header, *names)) is not None and header.index(column) > at
    ]
    many = (
        pl.when(pl.col("extra") == 1)
        .then(pl.lit("one field too many, and joining it"))
        .otherwise(pl.format("{} fields too many, and joining them", pl.col("extra")))
    )
    if not checks:
        return pl.format("{} to the exercise name leaves no column to check", many)
    what = pl.coalesce([pl.when(~ok).then(pl.lit(f"{w} in {c}")) for c, w, ok in checks])
    found = pl.coalesce([pl.when(~ok).then(text(c)) for c, _, ok in checks])
    empty = pl.all_horizontal([blank(text(c)) for c, _, _ in checks])
    listed = pl.lit(", ".join(c for c, _, _ in checks))
    return (
        pl.when(what.is_not_null())
        .then(
            pl.format(
                "{} to the exercise name does not leave {} (it leaves '{}')", many, what, found
            )
        )
        .when(empty)
        .then(pl.format("{} to the exercise name leaves nothing in {}", many, listed))
    )
