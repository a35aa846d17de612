"""The text grammar of canonical values, shared by the pydantic models and the vectorized executor.

Each grammar is a regular expression plus a Python parser. Pydantic runs the parser one value at
a time; `schemas.vectorized` compiles the same regular expressions into polars expressions, so
both accept exactly the same strings (a property test holds them to it).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic_core import PydanticCustomError


class Grammar(StrEnum):
    """How a text value is parsed; attached to model fields as metadata."""

    INT = "int_text"
    DECIMAL = "decimal_text"
    TIMESTAMP = "timestamp_text"
    CHOICE = "choice_text"
    TEXT = "text"


# Whitespace around a value is ignored; everything else is strict on purpose: no exponent, no
# `_` separators, no decimal comma, no nan/inf. `12.0` is an int (Strong writes reps as floats),
# `12.5` is not.
INT_RE = r"^[+-]?[0-9]+(?:\.0*)?$"
DECIMAL_RE = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$"
# ISO 8601 / RFC 3339: date, optional time with optional seconds and fraction, optional offset
# (`Z`, `z`, `+01:00`, `+0100`, `+01`). A date alone means local midnight.
TIMESTAMP_RE = (
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"([zZ]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$"
)
# Day and month written as numbers (`05/06/18`): a reader writes them in ISO 8601 once it knows
# the file's order (sources.timestamps). One that reaches the contract had none: which is the
# day cannot be known, and the message says how to tell.
AMBIGUOUS_DATE_RE = r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-](?:[0-9]{4}|[0-9]{2})(?:[^0-9].*)?$"
AMBIGUOUS_DATE = (
    "the day and month of {value!r} could be either way round, and nothing says which: no date "
    "in the file has a number above 12, no earlier file of this athlete's in this format was "
    'read either way, and no date_order is set; set date_order = "dmy" or "mdy" under '
    "[athletes.<athlete_id>] in repflow.toml"
)
# Timestamps outside this window are typos (a year of 1900 or 2100), not training history. The
# bounds are fixed, not "now", so that the same file always validates the same way.
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)

# Only ASCII white space is trimmed, in both executors: Unicode's other spaces are not blank.
WHITESPACE = " \t\n\r\f\v"

_INT = re.compile(INT_RE)
_DECIMAL = re.compile(DECIMAL_RE)
_TIMESTAMP = re.compile(TIMESTAMP_RE)
_AMBIGUOUS_DATE = re.compile(AMBIGUOUS_DATE_RE)


def blank(value: object) -> bool:
    """An empty string or one of only white space counts as a missing value."""
    return value is None or (isinstance(value, str) and not value.strip(WHITESPACE))


def parse_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError(Grammar.INT, "expected a whole number as text")
    text = str(value).strip(WHITESPACE)
    if not _INT.fullmatch(text):
        raise PydanticCustomError(Grammar.INT, "expected a whole number such as 12 or 12.0")
    return int(text.split(".")[0])


def parse_decimal(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PydanticCustomError(Grammar.DECIMAL, "expected a decimal number as text")
    text = str(value).strip(WHITESPACE)
    if not _DECIMAL.fullmatch(text):
        raise PydanticCustomError(
            Grammar.DECIMAL, "expected a decimal number such as 42.5 (a dot, no exponent)"
        )
    number = float(text)
    return 0.0 if number == 0 else number  # -0.0 is stored as 0.0


def offset_minutes(offset: str) -> int:
    if offset in ("Z", "z"):
        return 0
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise PydanticCustomError(
            "invalid_date", "not a real UTC offset: {offset}", {"offset": offset}
        )
    total = hours * 60 + minutes
    return -total if offset[0] == "-" else total


def parse_timestamp(value: object, timezone: str) -> datetime:
    """Parse ISO 8601 text to an aware UTC datetime; naive text is read in `timezone`."""
    if not isinstance(value, str):
        raise PydanticCustomError(Grammar.TIMESTAMP, "expected an ISO 8601 timestamp as text")
    match = _TIMESTAMP.fullmatch(value.strip(WHITESPACE))
    if not match and _AMBIGUOUS_DATE.fullmatch(value.strip(WHITESPACE)):
        raise PydanticCustomError("ambiguous_date", AMBIGUOUS_DATE.format(value=value))
    if not match:
        raise PydanticCustomError(
            Grammar.TIMESTAMP, "expected an ISO 8601 timestamp such as 2026-11-19T07:30:00+01:00"
        )
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if int(minute or 0) > 59 or int(second or 0) > 59:
            raise ValueError("minute and second must be in 0..59")
        local = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
        )
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid_date", "not a real date or time of day: {reason}", {"reason": str(exc)}
        ) from None
    if offset is not None:
        utc = local - timedelta(minutes=offset_minutes(offset))
    else:
        zone = ZoneInfo(timezone)
        aware = local.replace(tzinfo=zone)  # fold=0: an ambiguous time is the earlier instant
        utc = aware.astimezone(UTC).replace(tzinfo=None)
        if utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None) != local:
            raise PydanticCustomError(
                "nonexistent_local_time",
                "{local} does not exist in {zone} (the clocks skip it)",
                {"local": local.isoformat(), "zone": timezone},
            )
    result = utc.replace(tzinfo=UTC)
    if not EARLIEST <= result < LATEST:
        raise PydanticCustomError(
            "timestamp_out_of_range",
            "a training timestamp must fall between {lo} and {hi}",
            {"lo": EARLIEST.date().isoformat(), "hi": LATEST.date().isoformat()},
        )
    return result
