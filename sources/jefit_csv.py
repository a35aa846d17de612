"""JEFIT's export: one CSV file of database tables, each `### NAME ###…`, a header, its rows.

Sets are in EXERCISE LOGS (a row per exercise in a workout, its sets packed in `logs` as
`50.0x15,50.0x15`, that cell not always quoted) and in the newer EXERCISE SET LOGS (a row per
set, `exercise_log_id` naming its log); a log with per-set rows is read from them alone. Times
are epoch seconds; weights are lb unless SETTING's `mass` says kg. No other section holds sets.
"""

from __future__ import annotations

import re

import polars as pl

from schemas.set_row import LB_TO_KG
from sources import sets, units
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed, ReadHints, text_frame
from sources.columns import blank, find, metres, scaled, set_numbers, text
from sources.content import Source
from sources.csv_text import (
    BROKEN_QUOTES,
    UnreadableFile,
    decode,
    split_fields,
    split_records,
)

FORMAT = "jefit_csv"
VERSION = 1
# The tables JEFIT has written; a file whose first line opens one of them is a JEFIT export.
SECTIONS = frozenset(
    {
        "SETTING",
        "PROFILE",
        "ROUTINES",
        "WORKOUT SESSIONS",
        "EXERCISE LOGS",
        "EXERCISE SET LOGS",
        "EXERCISE RECORDS",
        "CARDIO LOGS",
        "CARDIO EXERCISE LOGS",
        "CUSTOM EXERCISES",
        "FAVORITE EXERCISES",
        "NOTES",
    }
)
LOGS, SET_LOGS, SETTING = "EXERCISE LOGS", "EXERCISE SET LOGS", "SETTING"
_MARKER = r"^###\s+(\S.*?)\s+#{3,}\s*$"
_END = r"^#{5,}\s*$"
# A packed set as written: `50.0x15`, `0x12`, `135 x 5`.
_PACKED = r"^\s*[0-9]+(?:\.[0-9]*)?\s*[xX]\s*[0-9]+(?:\.[0-9]*)?\s*$"
MASS_UNITS = {"lb": "lb", "lbs": "lb", "kg": "kg", "kgs": "kg"}
# A cardio or timed exercise packs five `0xN` entries per set; the fifth is the seconds (the
# same figures as CARDIO LOGS' `duration` and the per-set `duration`).
CARDIO_FIELDS = 5
# Epoch seconds past this (2100-01-01) are not a time JEFIT wrote: passed on as written.
LAST_EPOCH = 4_102_444_800


def detect(head: bytes) -> bool:
    first = decode(head).lstrip().split("\n", 1)[0]
    match = re.match(_MARKER, first.strip())
    return match is not None and match.group(1) in SECTIONS


def read(path: Source, hints: ReadHints) -> Parsed:
    lines = _lines(decode(path.read_bytes()))
    if not (lines["section"] == LOGS).any():
        raise UnreadableFile(f"a JEFIT export without its {LOGS} section: no workouts to read")
    logs = _section(lines, LOGS)
    if logs is None:  # an account with no workout logged yet
        return Parsed(format=FORMAT, rows=text_frame([]))
    unit = _setting_unit(_section(lines, SETTING))
    log_rows = _logs(*logs)
    set_logs = _section(lines, SET_LOGS)
    per_set = _set_logs(*set_logs, unit) if set_logs is not None else None
    with_sets = (
        per_set.filter(pl.col("structure_error").is_null() & ~blank(pl.col("log_id")))["log_id"]
        if per_set is not None
        else pl.Series([], dtype=pl.String)
    )
    sound = log_rows.filter(pl.col("structure_error").is_null())
    # Never the same set twice: a log with rows in EXERCISE SET LOGS is read from those rows.
    packed = _packed(sound.filter(~pl.col("log_id").is_in(with_sets.implode())), unit)
    parts = [packed, _broken(log_rows.filter(pl.col("structure_error").is_not_null()))]
    if per_set is not None:
        parts.append(_linked(per_set, sound))
    rows, skipped = sets.only_sets(pl.concat(parts, how="diagonal_relaxed"))
    exercise = pl.col("exercise").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    # Numbered within the exercise and the workout's day, not the workout: JEFIT's older logs
    # carry only their day (local midnight), so two workouts on one day would otherwise give
    # two sets the same key. Within a workout the numbering runs on, as everywhere.
    # A broken row takes no number: it is rejected, and the sets are numbered 1, 2, 3.
    intact = pl.col("structure_error").is_null()
    numbered = rows.sort("log_line", "position", "source_line").with_columns(
        set_index=pl.when(intact).then(set_numbers(pl.col("session_day"), exercise, intact))
    )
    canonical = numbered.select(
        *TRACE_COLUMNS,
        SESSION_KEY,
        "performed_at",
        "exercise",
        "set_index",
        "set_type",
        "reps",
        "load",
        "unit",
        "duration_s",
        "distance_m",
    )
    read_in, decided = units.resolve(canonical, hints, FORMAT)
    return Parsed(format=FORMAT, rows=read_in, skipped=skipped, decisions=decided)


def _lines(content: str) -> pl.DataFrame:
    """The file's physical lines (1-based `line`), each with the section it is in (`block`
    counts section markers and end lines, so a section is one contiguous block)."""
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = pl.DataFrame(pl.Series("text", [content]).str.split("\n").explode(empty_as_null=False))
    name = pl.col("text").str.strip_chars().str.extract(_MARKER, 1)
    boundary = name.is_not_null() | pl.col("text").str.strip_chars().str.contains(_END)
    return (
        lines.with_row_index("line", offset=1)
        .with_columns(marker=name, boundary=boundary)
        .with_columns(block=pl.col("boundary").cum_sum())
        .with_columns(section=pl.col("marker").first().over("block"))
    )


def _section(lines: pl.DataFrame, name: str) -> tuple[list[str], pl.DataFrame] | None:
    """The header and data records of the first section called `name` (records as
    csv_text.split_fields gives them), or None when the file has no such section."""
    blocks = lines.filter(pl.col("section") == name)["block"]
    if blocks.is_empty():
        return None
    body = lines.filter((pl.col("block") == blocks.min()) & ~pl.col("boundary"))
    records = split_records("\n".join(body["text"].to_list()), first_line=int(body["line"][0]))
    if records.height == 0:  # a section with no header: a table JEFIT had nothing in
        return None
    fields = split_fields(records, ",")
    header = [cell.strip() for cell in fields["fields"][0].to_list()]
    # A header written again within the section (ROUTINES repeats it) is not a row.
    rows = fields.slice(1).filter(pl.col("text") != records["text"][0])
    return header, rows


def _fitted(records: pl.DataFrame, header: list[str], packed: str | None = None) -> pl.DataFrame:
    """One text column per header cell, with `source_line`, `raw` and `structure_error`.

    An unquoted `logs` cell (`50.0x15,50.0x15`) splits into several fields: when the fields
    from its place on are packed sets and the rest then fits the header, they are joined back
    into the cell; a row that does not fit so is broken."""
    width = len(header)
    fields = pl.col("fields")
    if packed is not None and records.height:
        at = header.index(packed)
        extra = (fields.list.len().cast(pl.Int64) - width).clip(lower_bound=0)
        # Sliced into columns first: these per-row slices nested in the when/then below made
        # polars 1.44 fail ("could not extract number from any-value of dtype Null").
        parts = records.with_columns(
            spill=fields.list.slice(at, extra + 1),
            rest=fields.list.slice(at + extra + 1, fields.list.len()),
            extra=extra,
        )
        fits = (
            ~pl.col("malformed")
            & (pl.col("extra") > 0)
            & pl.col("spill").list.eval(pl.element().str.contains(_PACKED)).list.all()
        )
        joined = pl.concat_list(
            fields.list.head(at), pl.col("spill").list.join(","), pl.col("rest")
        )
        records = parts.with_columns(fields=pl.when(fits).then(joined).otherwise(fields))
    count = fields.list.len()
    return records.select(
        pl.col("line").cast(pl.Int64).alias("source_line"),
        pl.col("text").alias("raw"),
        structure_error=pl.when(pl.col("malformed"))
        .then(pl.lit(BROKEN_QUOTES))
        .when(count != width)
        .then(pl.format("expected {} fields as in the header, found {}", pl.lit(width), count)),
        **{f"c{i}": fields.list.get(i, null_on_oob=True) for i in range(width)},
    )


def _column(header: list[str], *names: str) -> pl.Expr:
    cell = find(header, *names)
    return text(None if cell is None else f"c{header.index(cell)}")


def _setting_unit(setting: tuple[list[str], pl.DataFrame] | None) -> str:
    """The unit of weights from SETTING's `mass` (` lbs`); lb when the file does not say."""
    if setting is None or setting[1].height == 0:
        return "lb"
    header, rows = setting
    mass = _fitted(rows.head(1), header).select(_column(header, "mass"))[0, 0]
    mass = (mass or "").strip()
    # A unit JEFIT never wrote is passed on, so every set is rejected with the user's value.
    return MASS_UNITS.get(mass.lower(), mass) if mass else "lb"


def _instant(epoch: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Epoch seconds as ISO 8601 UTC; the day (`mydate`) where no time is given; anything
    else as written, for the contract to reject."""
    seconds = epoch.cast(pl.Int64, strict=False)
    iso = pl.from_epoch(seconds, "s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        pl.when(seconds.is_between(1, LAST_EPOCH))
        .then(iso)
        .when(blank(epoch) | (seconds == 0))
        .then(day)
        .otherwise(epoch)
    )


def _logs(header: list[str], records: pl.DataFrame) -> pl.DataFrame:
    logs, name = find(header, "logs"), find(header, "ename")
    if logs is None or name is None:
        raise UnreadableFile(f"JEFIT's {LOGS} section has no `logs` or `ename` column")
    day = _column(header, "mydate")
    session = _column(header, "belongsession")
    # JEFIT's own workout id groups a workout; a log without one is its day's workout.
    session_key = (
        pl.when(session.cast(pl.Int64, strict=False) > 0)
        .then(pl.lit("session ") + session)
        .otherwise(pl.lit("day ") + day)
    )
    return (
        _fitted(records, header, packed=logs)
        .select(
            *TRACE_COLUMNS,
            log_id=_column(header, "_id"),
            logs=_column(header, "logs"),
            exercise=pl.col(f"c{header.index(name)}"),
            day=day,
            time=_column(header, "logtime"),
            **{SESSION_KEY: session_key},
        )
        .with_columns(session_day=pl.col("day").min().over(SESSION_KEY))
    )


def _set_logs(header: list[str], records: pl.DataFrame, unit: str) -> pl.DataFrame:
    if find(header, "exercise_log_id") is None:
        raise UnreadableFile(f"JEFIT's {SET_LOGS} section has no `exercise_log_id` column")
    weight = find(header, "weight_lbs", "weight_kg", "weight")
    # The column names its unit. `weight_lbs` is lb whatever the setting: for a lifter set to
    # kg it is converted back, so the sets keep the unit the lifter loads in.
    given = {"weight_lbs": "lb", "weight_kg": "kg"}.get((weight or "").lower(), unit)
    load = _column(header, "weight_lbs", "weight_kg", "weight")
    if given == "lb" and unit == "kg":
        load, given = scaled(load, LB_TO_KG, 2), "kg"
    distance = find(header, "distance_mi", "distance_km", "distance")
    distance_unit = {"distance_mi": "mi", "distance_km": "km"}.get((distance or "").lower(), "m")
    kind = _column(header, "set_type")
    return _fitted(records, header).select(
        *TRACE_COLUMNS,
        log_id=_column(header, "exercise_log_id"),
        position=_column(header, "set_index").cast(pl.Int64, strict=False),
        set_time=_column(header, "log_time"),
        set_type=pl.when(blank(kind))
        .then(pl.lit(None, pl.String))
        # JEFIT's `default` is a working set; its other words are the shared markers.
        .when(kind.str.to_lowercase() == "default")
        .then(pl.lit("working"))
        .otherwise(sets.set_type(kind)),
        reps=_column(header, "reps"),
        load=scaled(load, 1.0),
        unit=pl.lit(given),
        duration_s=scaled(_column(header, "duration"), 1.0),
        distance_m=metres(
            _column(header, "distance_mi", "distance_km", "distance"), pl.lit(distance_unit)
        ),
    )


def _linked(per_set: pl.DataFrame, logs: pl.DataFrame) -> pl.DataFrame:
    """Per-set rows with their log's exercise, workout and times; a row whose log is not in
    EXERCISE LOGS cannot be named, and is broken."""
    parent = (
        logs.filter(~blank(pl.col("log_id")))
        .unique("log_id", keep="first")
        .select(
            "log_id",
            "exercise",
            "day",
            "time",
            SESSION_KEY,
            "session_day",
            log_line="source_line",
        )
    )
    joined = per_set.join(parent, on="log_id", how="left")
    orphan = pl.col("structure_error").is_null() & pl.col("log_line").is_null()
    set_time = pl.col("set_time").cast(pl.Int64, strict=False)
    return joined.with_columns(
        structure_error=pl.when(orphan)
        .then(pl.format(f"exercise_log_id {{}} is not in {LOGS}", pl.col("log_id")))
        .otherwise(pl.col("structure_error")),
        # The set's own time where JEFIT wrote one, else its log's.
        performed_at=_instant(
            pl.when(set_time > 0).then(pl.col("set_time")).otherwise(pl.col("time")), pl.col("day")
        ),
    ).drop("set_time", "time", "log_id", "day")


def _packed(logs: pl.DataFrame, unit: str) -> pl.DataFrame:
    """One row per set packed in `logs`: `weight x reps`, or a cardio or timed set of five
    `0xN` entries whose fifth is the seconds. An entry of another shape is a broken row."""
    entries = (
        logs.with_columns(entry=pl.col("logs").str.split(","))
        .explode("entry", empty_as_null=False)
        .with_columns(
            entry=pl.col("entry").str.strip_chars(),
            position=pl.int_range(pl.len()).over("source_line"),
            count=pl.len().over("source_line"),
        )
    )
    entry = pl.col("entry")
    weight = entry.str.extract(r"^([^xX]*[^xX\s])\s*[xX]", 1)
    reps = entry.str.extract(r"[xX]\s*([^xX\s][^xX]*)$", 1)
    shaped = weight.is_not_null() & reps.is_not_null() & (entry.str.count_matches("[xX]") == 1)
    zero = pl.col("w").cast(pl.Float64, strict=False) == 0
    zero_reps = pl.col("r").cast(pl.Float64, strict=False) == 0
    within = pl.col("position") % CARDIO_FIELDS
    cardio = (
        (pl.col("count") % CARDIO_FIELDS == 0)
        & zero.fill_null(False).all().over("source_line")
        & (zero_reps | (within >= 3)).fill_null(False).all().over("source_line")
    )
    split = entries.with_columns(w=weight, r=reps).with_columns(cardio=cardio)
    # The first four entries of a cardio set are not sets of their own.
    kept = split.filter(~pl.col("cardio") | (within == CARDIO_FIELDS - 1))
    broken = (entry != "") & ~shaped
    return kept.select(
        pl.col("source_line"),
        pl.col("raw"),
        structure_error=pl.when(broken)
        .then(pl.format("the packed set '{}' in `logs` is not weight x reps", entry))
        .otherwise(pl.lit(None, pl.String)),
        **{SESSION_KEY: pl.col(SESSION_KEY)},
        performed_at=_instant(pl.col("time"), pl.col("day")),
        exercise=pl.col("exercise"),
        set_type=pl.lit("working"),
        reps=pl.when(pl.col("cardio")).then(pl.lit(None, pl.String)).otherwise(pl.col("r")),
        load=pl.when(pl.col("cardio"))
        .then(pl.lit(None, pl.String))
        .otherwise(scaled(pl.col("w").str.strip_chars(), 1.0)),
        unit=pl.lit(unit),
        duration_s=pl.when(pl.col("cardio")).then(pl.col("r")).otherwise(pl.lit(None, pl.String)),
        session_day=pl.col("session_day"),
        log_line=pl.col("source_line"),
        position=pl.col("position"),
    )


def _broken(logs: pl.DataFrame) -> pl.DataFrame:
    """A log row whose structure is broken, as one reject."""
    return logs.select(
        *TRACE_COLUMNS,
        log_line=pl.col("source_line"),
        position=pl.lit(0, pl.Int64),
    )
