"""The vectorized executor of `SetRow`: the same contract, run as polars expressions.

It is derived from the model's field metadata (grammar, required, pattern, length, bounds), so a
new field or bound in `SetRow` reaches bulk validation without a second definition. It returns,
per row, the first failing rule of each field (pydantic's error type names), and the normalised
values of the rows with none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
import polars.selectors as cs
from pydantic import BeforeValidator

from schemas.set_row import LB_TO_KG, MAX_LOAD_KG, RowContext, SetRow, TextSpec
from schemas.text import (
    AMBIGUOUS_DATE_RE,
    DECIMAL_RE,
    EARLIEST,
    INT_RE,
    LATEST,
    TIMESTAMP_RE,
    WHITESPACE,
    Grammar,
)

RULE_PREFIX = "__rule_"


@dataclass(frozen=True)
class FieldContract:
    name: str
    spec: TextSpec


def field_contracts() -> list[FieldContract]:
    """Read every field's text spec off `SetRow`, in validation order."""
    contracts = []
    for name, info in SetRow.model_fields.items():
        spec = next(m.func for m in info.metadata if isinstance(m, BeforeValidator))
        assert isinstance(spec, TextSpec), f"SetRow.{name} has no TextSpec"
        contracts.append(FieldContract(name, spec))
    return contracts


CONTRACTS = field_contracts()


def rule_column(name: str) -> str:
    return RULE_PREFIX + name


def first_match(cases: list[tuple[pl.Expr, pl.Expr]], otherwise: pl.Expr) -> pl.Expr:
    """The value of the first case whose condition holds, like SQL's CASE WHEN."""
    result = otherwise
    for condition, value in reversed(cases):
        result = pl.when(condition).then(value).otherwise(result)
    return result


def _first_failure(checks: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """The rule of the first check that fails, as pydantic stops at a field's first error."""
    return first_match([(failed, pl.lit(rule)) for failed, rule in checks], pl.lit(None, pl.String))


def _bounds(value: pl.Expr, contract: FieldContract) -> list[tuple[pl.Expr, str]]:
    checks = []
    if contract.spec.ge is not None:
        checks.append((value < contract.spec.ge, "greater_than_equal"))
    if contract.spec.le is not None:
        checks.append((value > contract.spec.le, "less_than_equal"))
    return checks


def _parse(contract: FieldContract, raw: pl.Expr) -> tuple[pl.Expr, list[tuple[pl.Expr, str]]]:
    """The parsed value and the ordered checks for a non-blank, non-timestamp value."""
    spec = contract.spec
    stripped = raw.str.strip_chars(WHITESPACE)
    match spec.grammar:
        case Grammar.INT:
            number = stripped.str.replace(r"\.0*$", "").cast(pl.Float64, strict=False)
            checks = [(~stripped.str.contains(INT_RE), Grammar.INT.value)]
            return number, checks + _bounds(number, contract)
        case Grammar.DECIMAL:
            number = stripped.cast(pl.Float64, strict=False)
            number = pl.when(number == 0).then(pl.lit(0.0)).otherwise(number)
            checks = [(~stripped.str.contains(DECIMAL_RE), Grammar.DECIMAL.value)]
            return number, checks + _bounds(number, contract)
        case Grammar.CHOICE:
            choice = stripped.str.to_lowercase().replace_strict(
                spec.choices, default=None, return_dtype=pl.String
            )
            return choice, [(choice.is_null(), Grammar.CHOICE.value)]
        case Grammar.TEXT:
            checks = []
            if spec.max_length is not None:
                checks.append((raw.str.len_chars() > spec.max_length, "string_too_long"))
            if spec.pattern is not None:
                checks.append((~raw.str.contains(spec.pattern), "string_pattern_mismatch"))
            return raw, checks
    raise ValueError(f"no vectorized parser for {spec.grammar}")


def blank(raw: pl.Expr) -> pl.Expr:
    return raw.is_null() | (raw.str.strip_chars(WHITESPACE) == "")


def _timestamp(lazy: pl.LazyFrame, timezone: pl.Expr, zones: list[str]) -> pl.LazyFrame:
    """Add `__value_performed_at` (UTC) and `__rule_performed_at`, mirroring
    `schemas.text.parse_timestamp`. Each stage is its own column, so the regular expression and
    the conversions run once per row, not once per reference."""
    raw = pl.col("performed_at")
    stripped = raw.str.strip_chars(WHITESPACE)
    names = ["year", "month", "day", "hour", "minute", "second", "fraction", "offset"]
    parts = stripped.str.extract_groups(TIMESTAMP_RE)
    lazy = lazy.with_columns(parts.alias("__ts")).with_columns(
        pl.col("__ts").struct.field(str(i)).alias(f"__ts_{name}") for i, name in enumerate(names, 1)
    )
    part = {name: pl.col(f"__ts_{name}") for name in names}
    number = {
        name: part[name].cast(pl.Int32, strict=False).fill_null(0)
        for name in ("year", "hour", "minute", "second")
    }
    offset_digits = part["offset"].str.replace_all(":", "").str.slice(1)
    offset_hours = offset_digits.str.slice(0, 2).cast(pl.Int32, strict=False).fill_null(0)
    offset_mins = offset_digits.str.slice(2, 2).cast(pl.Int32, strict=False).fill_null(0)
    sign = pl.when(part["offset"].str.starts_with("-")).then(-1).otherwise(1)
    day_start = pl.concat_str(
        [part["year"], part["month"], part["day"]], separator="-"
    ).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    micros = (
        part["fraction"].str.slice(0, 6).str.pad_end(6, "0").cast(pl.Int64, strict=False)
    ).fill_null(0)
    lazy = lazy.with_columns(
        __ts_day=day_start,
        __ts_offset_minutes=sign * (offset_hours * 60 + offset_mins),
        __ts_invalid=(
            (number["year"] == 0)
            | (number["hour"] > 23)
            | (number["minute"] > 59)
            | (number["second"] > 59)
            | (offset_hours > 23)
            | (offset_mins > 59)
        ),
        __ts_micros=micros,
    ).with_columns(
        __ts_local=pl.col("__ts_day").cast(pl.Datetime("us"))
        + pl.duration(
            hours=number["hour"],
            minutes=number["minute"],
            seconds=number["second"],
            microseconds=pl.col("__ts_micros"),
        ),
        __ts_invalid=pl.col("__ts_invalid") | pl.col("__ts_day").is_null(),
    )
    local = pl.col("__ts_local")
    from_offset = (local - pl.duration(minutes=pl.col("__ts_offset_minutes"))).dt.replace_time_zone(
        "UTC"
    )
    from_zone: pl.Expr = pl.lit(None, pl.Datetime("us", "UTC"))
    for zone in zones:
        converted = local.dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")
        from_zone = pl.when(timezone == zone).then(converted).otherwise(from_zone)
    lazy = lazy.with_columns(
        __ts_utc=pl.when(part["offset"].is_not_null()).then(from_offset).otherwise(from_zone)
    )
    utc = pl.col("__ts_utc")
    rule = _first_failure(
        [
            (blank(raw), "missing"),
            (part["year"].is_null() & stripped.str.contains(AMBIGUOUS_DATE_RE), "ambiguous_date"),
            (part["year"].is_null(), Grammar.TIMESTAMP.value),
            (pl.col("__ts_invalid"), "invalid_date"),
            (utc.is_null(), "nonexistent_local_time"),
            ((utc < pl.lit(EARLIEST)) | (utc >= pl.lit(LATEST)), "timestamp_out_of_range"),
        ]
    )
    return (
        lazy.with_columns(rule.alias("__rule_performed_at"))
        .with_columns(
            pl.when(pl.col("__rule_performed_at").is_null()).then(utc).alias("__value_performed_at")
        )
        .drop(cs.starts_with("__ts"))
    )


def athlete_setting(athlete: pl.Expr, overrides: dict[str, str], default: str) -> pl.Expr:
    if not overrides:
        return pl.lit(default)
    return athlete.replace_strict(overrides, default=default, return_dtype=pl.String)


def per_distinct(
    keys: pl.DataFrame, derive: Callable[[pl.LazyFrame], pl.LazyFrame]
) -> pl.DataFrame:
    """The columns `derive` adds, computed once per distinct row of `keys` and looked up for
    every row. Exports repeat the same athlete, exercise, unit, weight, reps and even workout
    start on many rows, so most values are parsed a few thousand times, not a million."""
    if _absent(keys):
        # A column the file does not have: its one value is derived once and repeated, without
        # hashing every row to find it.
        one = derive(keys.head(1).lazy()).collect().drop(keys.columns)
        return one.select(pl.all().repeat_by(keys.height).explode(empty_as_null=False))
    return _looked_up(keys, derive).collect()


def per_distinct_each(
    parts: list[tuple[pl.DataFrame, Callable[[pl.LazyFrame], pl.LazyFrame]]],
) -> list[pl.DataFrame]:
    """`per_distinct` of several independent parts, run side by side (polars' collect_all)."""
    plans = {n: _looked_up(k, derive) for n, (k, derive) in enumerate(parts) if not _absent(k)}
    collected = dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))
    return [
        collected[n] if n in collected else per_distinct(keys, derive)
        for n, (keys, derive) in enumerate(parts)
    ]


def _absent(keys: pl.DataFrame) -> bool:
    return keys.height > 0 and all(keys[name].null_count() == keys.height for name in keys.columns)


def _looked_up(keys: pl.DataFrame, derive: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pl.LazyFrame:
    distinct = derive(keys.lazy().unique())
    looked_up = keys.lazy().join(
        distinct, on=keys.columns, how="left", nulls_equal=True, maintain_order="left"
    )
    return looked_up.drop(keys.columns)


def _field_rule(contract: FieldContract, checks: list[tuple[pl.Expr, str]]) -> pl.Expr:
    empty = blank(pl.col(contract.name))
    return _first_failure(
        ([(empty, "missing")] if contract.spec.required else []) + [(empty, "__blank__")] + checks
    )


def _simple_field(contract: FieldContract) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """A field whose rules read only its own text."""

    def derive(lazy: pl.LazyFrame) -> pl.LazyFrame:
        value, checks = _parse(contract, pl.col(contract.name))
        return lazy.with_columns(_field_rule(contract, checks).alias("__rule")).select(
            contract.name,
            pl.when(pl.col("__rule").is_null()).then(value).alias("__value_" + contract.name),
            pl.when(pl.col("__rule") != "__blank__")
            .then(pl.col("__rule"))
            .alias(rule_column(contract.name)),
        )

    return derive


def _number_field(contract: FieldContract) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """Reps and load: the text's own rules here; the rules that need other fields (a measure
    instead of reps, the load limit in kg) are applied per row afterwards."""

    def derive(lazy: pl.LazyFrame) -> pl.LazyFrame:
        value, checks = _parse(contract, pl.col(contract.name))
        return lazy.select(
            contract.name,
            blank(pl.col(contract.name)).alias(f"__blank_{contract.name}"),
            value.alias(f"__number_{contract.name}"),
            _first_failure(checks).alias(f"__text_rule_{contract.name}"),
        )

    return derive


def check(frame: pl.DataFrame, context: RowContext) -> pl.DataFrame:
    """Add the parsed value of every `SetRow` field and a `__rule_<field>` column per field.

    A row is valid when every rule column is null. Columns absent from `frame` are blank.
    """
    missing = [c.name for c in CONTRACTS if c.name not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(name) for name in missing)
    frame = frame.with_columns(pl.col(c.name).cast(pl.String) for c in CONTRACTS)
    looked_up = per_distinct_each(
        [
            (
                frame.select(contract.name),
                _number_field(contract)
                if contract.name in ("reps", "load")
                else _simple_field(contract),
            )
            for contract in CONTRACTS
            if contract.name != "performed_at"
        ]
    )
    frame = frame.hstack([column for part in looked_up for column in part.get_columns()])

    # The timestamp is read in the athlete's zone, and load is bounded in kg, so both wait for
    # the athlete and unit to be parsed, as pydantic's field order makes them wait.
    valid_athlete = pl.when(pl.col(rule_column("athlete_id")).is_null()).then(pl.col("athlete_id"))
    timezone = athlete_setting(valid_athlete, context.athlete_timezones, context.timezone)
    zones = sorted({context.timezone, *context.athlete_timezones.values()})
    stamps = frame.select("performed_at", timezone.alias("__zone"))
    frame = frame.hstack(
        per_distinct(stamps, lambda lazy: _timestamp(lazy, pl.col("__zone"), zones))
    )

    has_measure = (
        pl.col("__value_duration_s").is_not_null() | pl.col("__value_distance_m").is_not_null()
    )
    reps_blank = pl.col("__blank_reps")
    reps_rule = first_match(
        [
            (reps_blank & ~has_measure, pl.lit("reps_or_measure")),
            (reps_blank, pl.lit("__blank__")),
        ],
        pl.col("__text_rule_reps"),
    )
    unit = pl.coalesce(
        pl.col("__value_unit"),
        athlete_setting(valid_athlete, context.athlete_units, context.unit),
    )
    load_value = pl.col("__number_load")
    load_kg = pl.when(unit == "lb").then(load_value * LB_TO_KG).otherwise(load_value)
    load_rule = first_match(
        [
            (pl.col("__blank_load"), pl.lit("__blank__")),
            (pl.col("__text_rule_load").is_not_null(), pl.col("__text_rule_load")),
            (load_kg > MAX_LOAD_KG, pl.lit("load_limit")),
        ],
        pl.lit(None, pl.String),
    )
    helpers = [
        f"__{kind}_{name}" for kind in ("blank", "number", "text_rule") for name in ("reps", "load")
    ]
    return (
        frame.lazy()
        .with_columns(reps_rule.alias("__reps_rule"), load_rule.alias("__load_rule"))
        .with_columns(
            pl.when(pl.col("__reps_rule").is_null())
            .then(pl.col("__number_reps").cast(pl.Int64))
            .alias("__value_reps"),
            pl.when(pl.col("__reps_rule") != "__blank__")
            .then(pl.col("__reps_rule"))
            .alias(rule_column("reps")),
            pl.when(pl.col("__load_rule").is_null()).then(load_value).alias("__value_load"),
            pl.when(pl.col("__load_rule") != "__blank__")
            .then(pl.col("__load_rule"))
            .alias(rule_column("load")),
            pl.col("__value_set_index").cast(pl.Int64),
        )
        .drop([*helpers, "__reps_rule", "__load_rule"])
        .collect()
    )


def rule_columns() -> list[str]:
    return [rule_column(c.name) for c in CONTRACTS]


def is_valid() -> pl.Expr:
    return pl.all_horizontal(pl.col(rule_columns()).is_null())
