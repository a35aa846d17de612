"""The canonical set row: the contract every input row is validated against.

Input values are text, as they stand in a CSV cell (readers of other formats translate into this
text first). Validation parses them with `schemas.text`, applies the bounds below, and yields the
normalised values that the warehouse stores. `schemas.vectorized` derives a polars executor from
this model's metadata; pydantic itself only explains rows the executor rejects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas.text import WHITESPACE, Grammar, blank, parse_decimal, parse_int, parse_timestamp

LB_TO_KG = 0.45359237
MAX_LOAD_KG = 1000.0
# 1-64 characters (max_length below), not only dots: `..` names no athlete.
ATHLETE_ID_RE = r"^\.*[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$"
MAX_ATHLETE_ID = 64
SET_TYPES = ("working", "warmup", "drop", "failure")
UNITS = ("kg", "lb")

SetType = Literal["working", "warmup", "drop", "failure"]
Unit = Literal["kg", "lb"]


@dataclass(frozen=True)
class TextSpec:
    """How one text column is read: its grammar, whether it may be blank, and text rules."""

    grammar: Grammar
    required: bool = False
    pattern: str | None = None
    max_length: int | None = None
    choices: dict[str, str] = field(default_factory=dict)
    ge: float | None = None
    le: float | None = None

    def __call__(self, value: Any, info: ValidationInfo) -> Any:
        if blank(value):
            if self.required:
                raise PydanticCustomError("missing", "a value is required")
            return None
        match self.grammar:
            case Grammar.INT:
                return self.check_bounds(parse_int(value))
            case Grammar.DECIMAL:
                return self.check_bounds(parse_decimal(value))
            case Grammar.TIMESTAMP:
                return parse_timestamp(value, row_setting(info, "timezone"))
            case Grammar.CHOICE:
                choice = self.choices.get(str(value).strip(WHITESPACE).lower())
                if choice is None:
                    raise PydanticCustomError(
                        Grammar.CHOICE,
                        "expected one of: {expected}",
                        {"expected": ", ".join(sorted(set(self.choices.values())))},
                    )
                return choice
            case Grammar.TEXT:
                return self.check_text(str(value))

    def check_bounds(self, number: float) -> float:
        if self.ge is not None and number < self.ge:
            raise PydanticCustomError(
                "greater_than_equal", "must be at least {ge}", {"ge": f"{self.ge:g}"}
            )
        if self.le is not None and number > self.le:
            raise PydanticCustomError(
                "less_than_equal", "must be at most {le}", {"le": f"{self.le:g}"}
            )
        return number

    def check_text(self, text: str) -> str:
        if self.max_length is not None and len(text) > self.max_length:
            raise PydanticCustomError(
                "string_too_long", "at most {max} characters", {"max": self.max_length}
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            raise PydanticCustomError(
                "string_pattern_mismatch", "must match {pattern}", {"pattern": self.pattern}
            )
        return text


def text(spec: TextSpec) -> Any:
    """Field metadata for a text column; the spec stays readable for the vectorized executor."""
    return BeforeValidator(spec)


@dataclass(frozen=True)
class RowContext:
    """Per-run settings a row needs: default and per-athlete timezone and unit."""

    timezone: str = "UTC"
    unit: str = "kg"
    athlete_timezones: dict[str, str] = field(default_factory=dict)
    athlete_units: dict[str, str] = field(default_factory=dict)

    def for_athlete(self, name: str, athlete_id: object) -> str:
        overrides = self.athlete_timezones if name == "timezone" else self.athlete_units
        default = self.timezone if name == "timezone" else self.unit
        return overrides.get(athlete_id, default) if isinstance(athlete_id, str) else default


def row_setting(info: ValidationInfo, name: str) -> str:
    context = info.context if isinstance(info.context, RowContext) else RowContext()
    return context.for_athlete(name, info.data.get("athlete_id"))


UNIT_CHOICES = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}
SET_TYPE_CHOICES = {name: name for name in SET_TYPES}


class SetRow(BaseModel):
    """One set as text in, normalised values out. Field order matters: later rules read earlier
    fields (the timestamp reads the athlete's timezone, load reads the unit)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    athlete_id: Annotated[
        str,
        text(
            TextSpec(Grammar.TEXT, required=True, pattern=ATHLETE_ID_RE, max_length=MAX_ATHLETE_ID)
        ),
    ]
    session_id: Annotated[str | None, text(TextSpec(Grammar.TEXT, max_length=200))] = None
    performed_at: Annotated[datetime, text(TextSpec(Grammar.TIMESTAMP, required=True))]
    exercise: Annotated[str, text(TextSpec(Grammar.TEXT, required=True, max_length=200))]
    set_index: Annotated[int | None, text(TextSpec(Grammar.INT, ge=1, le=10_000))] = None
    set_type: Annotated[
        SetType | None, text(TextSpec(Grammar.CHOICE, choices=SET_TYPE_CHOICES))
    ] = None
    duration_s: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=0, le=86_400))] = None
    distance_m: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=0, le=1_000_000))] = None
    reps: Annotated[int | None, text(TextSpec(Grammar.INT, ge=0, le=1000))] = None
    unit: Annotated[Unit | None, text(TextSpec(Grammar.CHOICE, choices=UNIT_CHOICES))] = None
    load: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=0))] = None
    rpe: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=1, le=10))] = None
    rir: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=0, le=9))] = None
    device_id: Annotated[str | None, text(TextSpec(Grammar.TEXT, max_length=128))] = None
    target_reps: Annotated[int | None, text(TextSpec(Grammar.INT, ge=0, le=1000))] = None
    rest_s: Annotated[float | None, text(TextSpec(Grammar.DECIMAL, ge=0, le=86_400))] = None

    @field_validator("reps", mode="after")
    @classmethod
    def reps_or_measure(cls, reps: int | None, info: ValidationInfo) -> int | None:
        # A timed or distance set (a plank, a row) has no reps; anything else must have them.
        if (
            reps is None
            and info.data.get("duration_s") is None
            and (info.data.get("distance_m") is None)
        ):
            raise PydanticCustomError(
                "reps_or_measure", "reps are required unless duration_s or distance_m is given"
            )
        return reps

    @field_validator("load", mode="after")
    @classmethod
    def load_limit(cls, load: float | None, info: ValidationInfo) -> float | None:
        unit = info.data.get("unit") or row_setting(info, "unit")
        if load is not None and to_kg(load, unit) > MAX_LOAD_KG:
            raise PydanticCustomError(
                "load_limit", "at most {max} kg of external load", {"max": int(MAX_LOAD_KG)}
            )
        return load


# The fields that rules of other fields read (`info.data` above): reps read the measures, load
# reads the unit. Beside these, rules read only their own text and the athlete's settings, so
# a rejected row's errors follow from its failing fields, these and those settings
# (schemas.validate explains each such combination once).
READ_BY_OTHER_RULES = ("duration_s", "distance_m", "unit")


def is_athlete_id(name: str) -> bool:
    return len(name) <= MAX_ATHLETE_ID and re.fullmatch(ATHLETE_ID_RE, name) is not None


def to_kg(load: float, unit: str) -> float:
    return load * LB_TO_KG if unit == "lb" else load


def explain(row: dict[str, object], context: RowContext) -> list[dict[str, object]]:
    """Every error pydantic finds in one row, as {field, value, rule, message}."""
    try:
        SetRow.model_validate(row, context=context)
    except ValidationError as exc:
        return [
            {
                "field": str(error["loc"][0]) if error["loc"] else "",
                "value": row.get(str(error["loc"][0])) if error["loc"] else None,
                "rule": error["type"],
                "message": error["msg"],
            }
            for error in exc.errors(include_url=False)
        ]
    return []
