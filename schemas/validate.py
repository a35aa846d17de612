"""Validate a reader's rows in bulk: valid set records out, and rejects with every reason.

The vectorized executor decides; pydantic explains each rejected row. Rows that pass become set
records: defaults applied, units converted to kg, exercise keys and set numbers derived, and a
key repeated within the file rejected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from schemas.row_hash import HASH_COLUMNS
from schemas.set_row import LB_TO_KG, READ_BY_OTHER_RULES, RowContext, explain
from schemas.vectorized import (
    CONTRACTS,
    athlete_setting,
    check,
    is_valid,
    per_distinct_each,
    rule_column,
)

# The natural key of a set within one source format (see docs/warehouse.md).
NATURAL_KEY = ("athlete_id", "performed_at", "exercise_key", "set_index")
RECORD_COLUMNS = (
    "athlete_id",
    "session_id",
    "session_key",
    "performed_at",
    "exercise_raw",
    "exercise_key",
    "set_index",
    "set_type",
    "reps",
    "load_kg",
    "load_unit",
    "rpe",
    "duration_s",
    "distance_m",
    "device_id",
    "target_reps",
    "rest_s",
    "source_format",
    "source_line",
    "line_hash",
    "line_check",
)
# A rejected row keeps its hashes when its reasons follow from the row alone (not for a broken
# structure or a repeated key): a re-export rejects it again with the stored reasons.
REJECT_SCHEMA = {
    "source_line": pl.Int64,
    "raw": pl.String,
    "errors": pl.String,
    "line_hash": pl.UInt64,
    "line_check": pl.UInt64,
}
# A rejected row keeps its raw text, up to this many characters (a 100 MB line is not stored).
MAX_RAW_CHARS = 4096
# Several small files validated as one frame (flows/batch_parse.py) carry their place in the
# batch in this column: what is per file (numbering, repeated keys, line order) is per its value.
FILE = "batch_file"


def _per_file(frame: pl.DataFrame, *columns: str) -> list[str]:
    """`columns`, after the batch's file column when `frame` has one."""
    return [FILE, *columns] if FILE in frame.columns else list(columns)


@dataclass(frozen=True)
class Validated:
    sets: pl.DataFrame  # RECORD_COLUMNS
    rejects: pl.DataFrame  # REJECT_SCHEMA


def exercise_key(name: pl.Expr) -> pl.Expr:
    """Lower-cased with white space collapsed, as `schemas.config_files.exercise_key`."""
    return name.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars(" ")


def local_dates(utc: pl.Expr, timezone: pl.Expr, zones: list[str]) -> pl.Expr:
    """The calendar date of each instant in its row's timezone."""
    local: pl.Expr = pl.lit(None, pl.Date)
    for zone in zones:
        local = (
            pl.when(timezone == zone)
            .then(utc.dt.convert_time_zone(zone).dt.date())
            .otherwise(local)
        )
    return local


def validate(
    rows: pl.DataFrame, context: RowContext, folder_athlete: str | None, whole: bool = True
) -> Validated:
    """Split `rows` (canonical text columns plus source_line, raw, structure_error).

    `rows` is the whole file unless `whole` is false: then it is one batch of a large file. Its
    sets are numbered within the batch (`derived` says which) and a key repeated within the file
    is not looked for: both span batches, and warehouse.load finishes them in SQL. `sets` then
    also keeps `raw`, for the rejects the loader finds."""
    records, rejects = checked(rows, context, folder_athlete)
    if whole:
        records, duplicates = split_repeats(number(records))
    else:
        numbered = number(records.with_columns(derived=pl.col("set_index").is_null()))
        records, duplicates = numbered.select(*RECORD_COLUMNS, "raw", "derived"), records.clear()
    rejects = pl.concat([rejects, duplicate_rejects(duplicates)])
    return Validated(sets=records, rejects=rejects.sort(_per_file(rejects, "source_line")))


def with_folder_athlete(rows: pl.DataFrame, folder_athlete: str | None) -> pl.DataFrame:
    """The folder's athlete on every row that names none."""
    if folder_athlete is None:
        return rows
    given = pl.col("athlete_id") if "athlete_id" in rows.columns else pl.lit(None, pl.String)
    return rows.with_columns(
        athlete_id=pl.when(given.str.strip_chars().str.len_chars() > 0)
        .then(given)
        .otherwise(pl.lit(folder_athlete))
    )


def checked(
    rows: pl.DataFrame, context: RowContext, folder_athlete: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows that pass the contract as set records, not yet numbered (their `raw` kept),
    and the rows that fail it as rejects with every reason."""
    rows = with_folder_athlete(
        rows.with_columns(pl.col("source_line").cast(pl.Int64)), folder_athlete
    )
    broken = rows.filter(pl.col("structure_error").is_not_null())
    checks = check(rows.filter(pl.col("structure_error").is_null()), context)
    records = _records(checks.filter(is_valid()), context)
    rejects = pl.concat(
        [
            cut_raw(_structure_rejects(broken)),
            cut_raw(_explain(checks.filter(~is_valid()), context)),
        ]
    )
    return records, rejects


def cut_raw(rejects: pl.DataFrame) -> pl.DataFrame:
    long_raw = pl.col("raw").str.len_chars() > MAX_RAW_CHARS
    return rejects.with_columns(
        raw=pl.when(long_raw)
        .then(pl.col("raw").str.slice(0, MAX_RAW_CHARS) + pl.lit(" … (cut)"))
        .otherwise(pl.col("raw"))
    )


def _records(valid: pl.DataFrame, context: RowContext) -> pl.DataFrame:
    value = {c.name: pl.col("__value_" + c.name) for c in CONTRACTS}
    athlete = value["athlete_id"]
    unit = pl.coalesce(value["unit"], athlete_setting(athlete, context.athlete_units, context.unit))
    load = value["load"].fill_null(0.0)
    timezone = athlete_setting(athlete, context.athlete_timezones, context.timezone)
    zones = sorted({context.timezone, *context.athlete_timezones.values()})
    performed_at = value["performed_at"].dt.truncate("1s")
    # Both derive from values that repeat on many rows: computed once per distinct value.
    valid = valid.sort(_per_file(valid, "source_line")).with_columns(
        __performed_at=performed_at, __zone=timezone
    )
    dates, keys = per_distinct_each(
        [
            (
                valid.select("__performed_at", "__zone"),
                lambda lazy: lazy.with_columns(
                    __local_date=local_dates(
                        pl.col("__performed_at"), pl.col("__zone"), zones
                    ).cast(pl.String)
                ),
            ),
            (
                valid.select(value["exercise"]),
                lambda lazy: lazy.with_columns(__exercise_key=exercise_key(value["exercise"])),
            ),
        ]
    )
    valid = valid.hstack(dates).hstack(keys)
    given_key = pl.col("session_key") if "session_key" in valid.columns else pl.lit(None)
    session_key = pl.coalesce(value["session_id"], given_key.cast(pl.String), "__local_date")
    records = valid.select(
        athlete_id=athlete,
        session_id=value["session_id"],
        session_key=session_key,
        performed_at=pl.col("__performed_at"),
        exercise_raw=value["exercise"],
        exercise_key=pl.col("__exercise_key"),
        set_index=value["set_index"],
        set_type=value["set_type"].fill_null("working"),
        reps=value["reps"],
        load_kg=pl.when(unit == "lb").then(load * LB_TO_KG).otherwise(load),
        load_unit=_lifter_unit(valid, unit),
        rpe=pl.coalesce(value["rpe"], 10.0 - value["rir"]),
        duration_s=value["duration_s"],
        distance_m=value["distance_m"],
        device_id=value["device_id"],
        target_reps=value["target_reps"],
        rest_s=value["rest_s"],
        source_format=(
            pl.col("source_format") if "source_format" in valid.columns else pl.lit(None, pl.String)
        ),
        source_line=pl.col("source_line"),
        **{c: _hash_column(valid, c) for c in HASH_COLUMNS},
        raw=pl.col("raw"),
        **({FILE: pl.col(FILE)} if FILE in valid.columns else {}),
    )
    return records


def _lifter_unit(frame: pl.DataFrame, unit: pl.Expr) -> pl.Expr:
    """The unit advice comes back in: a reader's `lifter_unit` mark (round pounds written in
    kg) applies only where the load was read as kg."""
    if "lifter_unit" not in frame.columns:
        return unit
    return (
        pl.when((unit == "kg") & (pl.col("lifter_unit") == "lb")).then(pl.lit("lb")).otherwise(unit)
    )


def _hash_column(frame: pl.DataFrame, name: str) -> pl.Expr:
    # Rows hashed by schemas.row_hash keep their hashes; others store none (never skipped).
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.UInt64)


# Sets without a number are numbered in file order within these.
SET_GROUP = ("athlete_id", "session_key", "exercise_key")


def number(records: pl.DataFrame) -> pl.DataFrame:
    """Number the sets without a number, counting every set of their group in file order."""
    # source_line is never null, so its running count is the position (twice as fast as an
    # int_range over the same groups).
    position = pl.col("source_line").cum_count().over(_per_file(records, *SET_GROUP))
    return records.with_columns(set_index=pl.coalesce("set_index", position.cast(pl.Int64)))


def split_repeats(records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split off the rows whose key an earlier row of the file already has."""
    key = _per_file(records, *NATURAL_KEY)
    first = records.select(pl.struct(key).is_first_distinct()).to_series()
    columns = _per_file(records, *RECORD_COLUMNS)
    if first.all():  # the usual case: no copy of a million rows to drop none
        return records.select(columns), records.clear()
    return records.filter(first).select(columns), records.filter(~first)


def _errors_json(errors: list[dict[str, object]]) -> str:
    return json.dumps(errors, ensure_ascii=False, default=str)


def _structure_rejects(broken: pl.DataFrame) -> pl.DataFrame:
    errors = [
        _errors_json([{"field": "", "value": None, "rule": "structure", "message": reason}])
        for reason in broken["structure_error"].to_list()
    ]
    return _reject_frame(broken, errors)


def _reject_frame(rows: pl.DataFrame, errors: list[str], hashed: bool = False) -> pl.DataFrame:
    """Rejects for `rows` (source_line and raw), keeping their hashes when `hashed`."""
    hashes = {c: rows[c] for c in HASH_COLUMNS if hashed and c in rows.columns}
    frame = pl.DataFrame(
        {"source_line": rows["source_line"], "raw": rows["raw"], "errors": errors, **hashes},
        schema={name: REJECT_SCHEMA[name] for name in ("source_line", "raw", "errors", *hashes)},
    )
    frame = frame.with_columns(
        pl.lit(None, pl.UInt64).alias(c) for c in HASH_COLUMNS if c not in hashes
    )
    return frame.with_columns(rows[FILE]) if FILE in rows.columns else frame


def _explain(rejected: pl.DataFrame, context: RowContext) -> pl.DataFrame:
    """Pydantic's account of each rejected row; the executor's rules if pydantic has none.

    A row's errors follow from which fields failed (and by which rule), their texts, the
    fields that other fields' rules read (`READ_BY_OTHER_RULES`) and its athlete's settings.
    Rows alike in those share one explanation: pydantic runs once per combination, not once
    per row."""
    names = [c.name for c in CONTRACTS]
    rows = rejected.select(*names, *[rule_column(n) for n in names])
    valid_athlete = pl.when(pl.col(rule_column("athlete_id")).is_null()).then(pl.col("athlete_id"))
    signature = rows.select(
        *[
            pl.col(n)
            if n in READ_BY_OTHER_RULES
            else pl.when(pl.col(rule_column(n)).is_not_null()).then(pl.col(n)).alias(n)
            for n in names
        ],
        athlete_setting(valid_athlete, context.athlete_timezones, context.timezone).alias("__tz"),
        athlete_setting(valid_athlete, context.athlete_units, context.unit).alias("__unit"),
        # Which fields failed, and how: a blank text that fails (a required field) and a
        # passing text both show as null above.
        *[pl.col(rule_column(n)) for n in names],
    )
    first = signature.with_row_index("__row").unique(signature.columns, keep="first")
    explained = [_explained(rows.row(n, named=True), names, context) for n in first["__row"]]
    errors = signature.join(
        first.with_columns(errors=pl.Series(explained, dtype=pl.String)),
        on=signature.columns,
        how="left",
        nulls_equal=True,
        maintain_order="left",
    )["errors"]
    return _reject_frame(rejected, errors.to_list(), hashed=True)


def _explained(row: dict[str, object], names: list[str], context: RowContext) -> str:
    explained = explain({n: row[n] for n in names}, context)
    if not explained:
        explained = [
            {"field": n, "value": row[n], "rule": row[rule_column(n)], "message": "rejected"}
            for n in names
            if row[rule_column(n)] is not None
        ]
    return _errors_json(explained)


def duplicate_rejects(duplicates: pl.DataFrame) -> pl.DataFrame:
    """Rejects for rows whose key an earlier row of the same file has."""
    # Rows from DuckDB come in the session's time zone; the message says UTC.
    duplicates = duplicates.with_columns(pl.col("performed_at").dt.convert_time_zone("UTC"))
    errors = [
        _errors_json(
            [
                {
                    "field": "set_index",
                    "value": row["set_index"],
                    "rule": "duplicate_key_in_file",
                    "message": (
                        f"an earlier row of this file already has athlete {row['athlete_id']}, "
                        f"{row['performed_at']:%Y-%m-%d %H:%M:%S} UTC, "
                        f"{row['exercise_raw']!r}, set {row['set_index']}"
                    ),
                }
            ]
        )
        for row in duplicates.iter_rows(named=True)
    ]
    return cut_raw(_reject_frame(duplicates, errors))


def one_rule_fails_all(rejects: pl.DataFrame) -> str | None:
    """When every rejected row fails the same rule (field, rule and message), that rule and an
    example value, for a person: a file whose rows all fail it fails as a whole (DESIGN.md).
    None when there is no reject, or the rows fail in different ways."""
    if rejects.height == 0:
        return None
    schema = pl.List(pl.Struct({key: pl.String for key in ("field", "value", "rule", "message")}))
    errors = (
        rejects.select("raw", error=pl.col("errors").str.json_decode(schema))
        .with_row_index("row")
        .explode("error", empty_as_null=True)
        .unnest("error")
    )
    rule = ["field", "rule", "message"]
    shared = errors.group_by(rule).agg(
        rows=pl.col("row").n_unique(), value=pl.col("value").first(), raw=pl.col("raw").first()
    )
    every = shared.filter(pl.col("rows") == rejects.height).sort(rule)
    if every.height == 0:
        return None
    field, rule_name, message, _, value, raw = every.row(0)
    example = value if value is not None else raw
    if field == "performed_at" and rule_name == "timestamp_text":
        return f"dates like {example!r} are not understood ({message}), on every row"
    named = f"{field} " if field else ""
    return f"every row fails the same rule, {named}{rule_name}: {message}; for example {example!r}"
