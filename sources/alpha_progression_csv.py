"""Alpha Progression workout exports: one file of workout blocks, not a table.

- 2023: `,`; a workout title line, `"2023-03-24 7:26 pm",51 min`, a plan line, then per exercise
  `"1. Curls Dumbbells","<note>"`, a target line `"10 reps"`, `#,LBS,REPS` (or `#,KG,REPS`,
  `#,REPS`) and set rows `1,27.5,20`; a note made only of `25 x 20` lines lists warm-ups.
- newer: `;` and decimal commas; `"<title>";"2026-02-19 4:54 h";"1:02 hr"`, then
  `"1. Hack Squats · Machine · 8 reps";"WU1 · 37,5 kg · 9 reps<br>WU2 · …"`, `#;KG;REPS;RIR`
  and set rows `1;102,5;6;0`, where `+35` is bodyweight plus 35 kg.
"""

from __future__ import annotations

import re

import polars as pl

from sources import sets, timestamps, units
from sources.base import TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import set_numbers
from sources.content import Source
from sources.csv_text import BROKEN_QUOTES, UnreadableFile, decode, split_fields, split_records

FORMAT = "alpha_progression_csv"
VERSION = 1

# A workout's start: 12-hour with am/pm (2023) or 24-hour followed by ` h` (newer).
_DATE = r"^\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}(?: ?(?i:[ap]m|h))?$"
_NUMBERED = r"^\d+\.\s*"
# The set table's header: `#` then the columns, a line of its own in both generations.
_SET_HEADER = re.compile(r"(?m)^#([,;])")
_SIGNATURE = re.compile(r"(?im)^#[,;](?:KG|LBS|REPS)[,;\r\n]")
_DATE_LINE = re.compile(
    r'(?im)^(?:"[^"\n]*";)?"?\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}[ \u00a0\u202f]?(?:[ap]m|h)"?[,;]'
)
# What each column of a set header is; `unit` is the load's unit.
_LOAD = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}
_MEASURES = ("reps", "rir", "rpe")
# Warm-ups in the exercise line's second cell: the newer app writes `WU1 · 37,5 kg · 9 reps`
# (the load may be missing for a bodyweight lift); in 2023 the cell is a free note, and
# reads as warm-ups only when every line of it is `weight x reps`.
_WARMUP = (
    r"^(?i:WU)\s*\d*\s*·\s*(?:(?<load>[+-]?\d+(?:[.,]\d+)?)\s*(?<unit>(?i:kgs?|lbs?))\s*·\s*)?"
    r"(?<reps>\d+)\s*(?i:reps?)$"
)
_PLAIN_WARMUP = r"^(?<load>\d+(?:[.,]\d+)?)\s*[x×X]\s*(?<reps>\d+)$"
_KINDS = (
    "workout title, date line, plan line, exercise line, target line, set header "
    "(`#,KG,REPS`, `#;KG;REPS;RIR`) or set row"
)


def detect(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = decode(head)
        except UnreadableFile:
            return False
    else:
        # The head may end inside a character (`·`, a no-break space): decoded strictly, the
        # whole head would fall back to Windows-1252 and the date line would not match.
        text = head.decode("utf-8-sig", errors="ignore")
    return bool(_SIGNATURE.search(text)) and bool(_DATE_LINE.search(text))


def read(path: Source, hints: ReadHints) -> Parsed:
    text = decode(path.read_bytes())
    found = _SET_HEADER.search(text)
    if found is None:
        raise UnreadableFile(
            "an Alpha Progression export has set tables headed `#,KG,REPS` or `#;KG;REPS;RIR`;"
            " this file has none"
        )
    separator = found.group(1)
    lines = _structure(split_fields(split_records(text), separator), separator)
    rows = pl.concat([_set_rows(lines), _warmups(lines), _strays(lines)], how="diagonal_relaxed")
    rows = rows.sort("source_line", "part").with_columns(
        pl.col("source_line").cast(pl.Int64),
        set_index=set_numbers(pl.col("session_key"), pl.col("exercise").str.to_lowercase()),
    )
    canonical, decided = units.resolve(
        rows.select(
            *TRACE_COLUMNS,
            "session_key",
            performed_at=timestamps.iso(rows["session_key"]),
            exercise="exercise",
            set_index="set_index",
            set_type="set_type",
            reps="reps",
            load="load",
            unit="unit",
            rpe="rpe",
            rir="rir",
        ),
        hints,
        FORMAT,
    )
    kept, skipped = sets.only_sets(canonical)
    return Parsed(format=FORMAT, rows=kept, skipped=skipped, decisions=decided)


def _structure(records: pl.DataFrame, separator: str) -> pl.DataFrame:
    """Each record with its kind, and the workout, exercise and set header it falls under."""
    # The 2023 export writes a no-break space before `pm` and `min`.
    fields = pl.col("fields").list.eval(
        pl.element().str.replace_all(r"[\u00a0\u202f]", " ").str.strip_chars()
    )
    first = pl.col("cells").list.get(0, null_on_oob=True)
    second = pl.col("cells").list.get(1, null_on_oob=True)
    width = pl.col("cells").list.len()
    date_first = first.str.contains(_DATE) & ~pl.col("malformed")
    date_second = second.str.contains(_DATE).fill_null(False) & ~pl.col("malformed")
    set_row = first.str.contains(r"^\d+$") & (width >= 2)
    # A 2023 title is the line above the date line; the newer generation puts it in the date
    # line's first cell. A line shaped like a set row is never a title: that would lose a set.
    title = date_first.shift(-1, fill_value=False) & ~set_row
    base = (
        pl.when(pl.col("malformed"))
        .then(pl.lit("broken"))
        .when(date_first | date_second)
        .then(pl.lit("workout"))
        .when(title)
        .then(pl.lit("title"))
        .when(first.str.contains(_NUMBERED + r"\S"))
        .then(pl.lit("exercise"))
        .when(first == "#")
        .then(pl.lit("set_header"))
        .when(set_row)
        .then(pl.lit("set_row"))
        .otherwise(pl.lit("other"))
    )
    # A one-cell line right after the date line is the plan, right after an exercise line
    # its target (`10 reps`).
    previous = pl.col("kind").shift(1)
    one_cell_other = (pl.col("kind") == "other") & (width == 1)
    kind = (
        pl.when(one_cell_other & (previous == "workout"))
        .then(pl.lit("plan"))
        .when(one_cell_other & (previous == "exercise"))
        .then(pl.lit("target"))
        .otherwise(pl.col("kind"))
    )
    # A line that cannot be read may be a damaged exercise line: it ends the exercise, so the
    # set rows under it are rejected rather than stored under the exercise before it. A
    # damaged set row (`1,"27.5,20`) is no exercise line: the sets after it still count.
    unreadable = pl.col("kind").is_in(["broken", "other"]) & ~pl.col("text").str.contains(
        r"^\d+[,;]"
    )
    starts_block = pl.col("kind").is_in(["workout", "title", "exercise"]) | unreadable
    exercise_cell = first.str.replace(_NUMBERED, "").str.replace_all(r"\s*·\s*", " · ")
    parts = exercise_cell.str.split(" · ")
    name, equipment = parts.list.get(0), parts.list.get(1, null_on_oob=True)
    # `Hack Squats · Machine · 8 reps`: the equipment is kept, the target and dropsets are not.
    has_equipment = equipment.is_not_null() & ~equipment.str.contains(r"^\d")
    exercise = pl.when(has_equipment).then(pl.format("{} ({})", name, equipment)).otherwise(name)
    structured = (
        records.with_columns(cells=fields)
        .with_columns(kind=base)
        .with_columns(kind=kind)
        .with_columns(
            workout=(pl.col("kind") == "workout").cum_sum(),
            block=starts_block.cum_sum(),
            session_key=pl.when(date_first)
            .then(first)
            .when(date_second)
            .then(second)
            .forward_fill(),
            header=pl.when(pl.col("kind") == "set_header").then(
                pl.col("cells").list.join(separator)
            ),
        )
        .with_columns(
            exercise=pl.when(pl.col("kind") == "exercise").then(exercise),
            opened_by=pl.col("kind").first().over("block"),
            opened_at=pl.col("line").first().over("block"),
        )
        .with_columns(
            pl.col("exercise", "header").forward_fill().over("block"),
        )
    )
    layouts = _layouts(structured["header"].drop_nulls().unique().to_list(), separator)
    joined = structured.join(layouts, on="header", how="left", maintain_order="left")
    # Warm-ups come before their set header: they take the unit of the block's header.
    return joined.with_columns(block_unit=pl.col("unit").drop_nulls().first().over("block"))


def _layouts(headers: list[str], separator: str) -> pl.DataFrame:
    """What each distinct set header's columns are (a file has two or three headers)."""
    rows = []
    for header in headers:
        cells = [cell.strip().lower() for cell in header.split(separator)]
        load = next((i for i, c in enumerate(cells) if c in _LOAD), None)
        unknown = [c for c in cells[1:] if c and c not in _LOAD and c not in _MEASURES]
        rows.append(
            {
                "header": header,
                "width": len(cells),
                "load_at": load,
                "unit": _LOAD[cells[load]] if load is not None else None,
                **{f"{m}_at": cells.index(m) if m in cells else None for m in _MEASURES},
                "unknown": ", ".join(c.upper() for c in unknown) or None,
            }
        )
    schema = {
        "header": pl.String,
        "width": pl.Int64,
        "load_at": pl.Int64,
        "unit": pl.String,
        **{f"{m}_at": pl.Int64 for m in _MEASURES},
        "unknown": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _value(raw: pl.Expr) -> pl.Expr:
    """A number as the contract reads it: `102,5` is 102.5, `+35` (bodyweight plus) is 35,
    `-` (a planned set not done) is nothing; anything else is passed on as written."""
    cleaned = raw.str.strip_chars()
    return (
        pl.when(cleaned.is_in(["-", ""]))
        .then(pl.lit(None, pl.String))
        .otherwise(
            cleaned.str.replace(r"^\+(\d)", "$1").str.replace(r"^([+-]?\d+),(\d+)$", "$1.$2")
        )
    )


def _cell(at: str) -> pl.Expr:
    return _value(pl.col("cells").list.get(pl.col(at), null_on_oob=True))


def _set_rows(lines: pl.DataFrame) -> pl.DataFrame:
    width = pl.col("cells").list.len()
    error = (
        pl.when(pl.col("workout") == 0)
        .then(pl.lit("a set row before the first workout (no date line above it)"))
        .when(pl.col("exercise").is_null() & pl.col("opened_by").is_in(["broken", "other"]))
        .then(
            pl.format(
                "a set row whose exercise is unknown: line {} above it could not be read",
                pl.col("opened_at"),
            )
        )
        .when(pl.col("exercise").is_null())
        .then(pl.lit("a set row with no exercise line above it in its workout"))
        .when(pl.col("header").is_null())
        .then(pl.lit("a set row with no set header (`#,KG,REPS`) above it"))
        .when(pl.col("unknown").is_not_null())
        .then(
            pl.format(
                "the set header `{}` has a column this reader does not know: {}",
                pl.col("header"),
                pl.col("unknown"),
            )
        )
        .when(width != pl.col("width"))
        .then(
            pl.format(
                "expected {} fields as in the set header `{}`, found {}",
                pl.col("width"),
                pl.col("header"),
                width,
            )
        )
    )
    return lines.filter(pl.col("kind") == "set_row").select(
        source_line="line",
        part=pl.lit(0),
        raw="text",
        structure_error=error,
        session_key="session_key",
        exercise="exercise",
        set_type=pl.lit("working"),
        reps=_cell("reps_at"),
        load=_cell("load_at"),
        unit="unit",
        rpe=_cell("rpe_at"),
        rir=_cell("rir_at"),
    )


def _warmups(lines: pl.DataFrame) -> pl.DataFrame:
    """Each warm-up of an exercise line, as a set on that line, before the work sets."""
    cell = pl.col("cells").list.get(1, null_on_oob=True)
    pieces = (
        lines.filter((pl.col("kind") == "exercise") & (pl.col("workout") > 0))
        .select(
            "line",
            "session_key",
            "exercise",
            "block_unit",
            piece=cell.str.replace_all(r"(?i)<br\s*/?>", "\n").str.split("\n"),
        )
        .explode("piece", empty_as_null=False)
        .with_columns(pl.col("piece").str.strip_chars())
        .filter(pl.col("piece").is_not_null() & (pl.col("piece") != ""))
        .with_columns(part=pl.int_range(1, pl.len() + 1).over("line"))
    )
    piece = pl.col("piece")
    tagged = piece.str.contains(r"^(?i:WU)\s*\d")
    plain_note = piece.str.contains(_PLAIN_WARMUP).all().over("line")
    written = piece.str.extract_groups(_WARMUP)
    plain = piece.str.extract_groups(_PLAIN_WARMUP)
    unit = written.struct.field("unit").str.to_lowercase().str.strip_suffix("s")
    return pieces.filter(tagged | plain_note).select(
        source_line="line",
        part="part",
        raw="piece",
        structure_error=pl.when(tagged & written.struct.field("reps").is_null()).then(
            pl.lit("a warm-up that does not read as `WU1 · 37,5 kg · 9 reps`")
        ),
        session_key="session_key",
        exercise="exercise",
        set_type=pl.lit("warmup"),
        reps=pl.coalesce(written.struct.field("reps"), plain.struct.field("reps")),
        load=_value(pl.coalesce(written.struct.field("load"), plain.struct.field("load"))),
        unit=pl.coalesce(unit, "block_unit"),
    )


def _strays(lines: pl.DataFrame) -> pl.DataFrame:
    """Lines that are none of the export's kinds, or come before its first workout."""
    stray = pl.col("kind").is_in(["broken", "other"]) | (
        (pl.col("workout") == 0) & pl.col("kind").is_in(["exercise", "set_header", "target"])
    )
    error = (
        pl.when(pl.col("kind") == "broken")
        .then(pl.lit(BROKEN_QUOTES))
        .when(pl.col("workout") == 0)
        .then(pl.lit("a line before the first workout (no date line above it)"))
        .otherwise(pl.lit(f"a line that is none of an Alpha Progression export's kinds: {_KINDS}"))
    )
    return lines.filter(stray).select(
        source_line="line",
        part=pl.lit(0),
        raw="text",
        structure_error=error,
        session_key="session_key",
        exercise="exercise",
    )
