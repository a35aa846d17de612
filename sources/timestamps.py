"""Timestamps as apps write them, read into the ISO 8601 text the contract parses (schemas.text).

Every reader of an app's export reads its dates here. Every unambiguous form is accepted:
ISO 8601 and its relatives (`2026-03-07 09:01:00 +00:00`, `2022-01-05 22:06:49 +0000`,
`2026-11-03T18:05:11.000Z`), month names in the languages we read (`15 Sep 2025, 07:48`,
`Jun 11, 2026, 1:01 PM`, `15. März 2025`), 12- and 24-hour clocks (`12:34:56 pm`, `4:54 h`),
with or without seconds and fractions, with or without an offset. A two-digit year is 20yy.

Day and month written as numbers (`05/16/18`, `19/11/18`) are ambiguous in general: the order is
decided per file (`decide_order`), and without one those values stay as written, for the contract
to reject as `ambiguous_date` with the fix.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

import polars as pl

from sources.base import Decisions, ReadHints

DAY_FIRST, MONTH_FIRST = "dmy", "mdy"
# Where a file's day/month order came from (stored in ingested_files.date_order_source).
FROM_FILE, FROM_EARLIER_FILES, FROM_SETTING = "file", "earlier_files", "setting"
UNDECIDED = "undecided"  # nothing says: the file's dates in numbers are rejected
# A later file of the athlete's in the format follows an order its earlier files showed.
STICKY = (FROM_FILE, FROM_EARLIER_FILES)

# Month names in the languages of the apps we read (English, French, German, Spanish, Italian,
# Portuguese, Dutch), each also by its first three and four letters (`Sep`, `Sept`, `janv`).
_MONTH_NAMES = (
    "january february march april may june july august september october november december",
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "januar februar märz april mai juni juli august september oktober november dezember",
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "januari februari maart april mei juni juli augustus september oktober november december",
)
# Abbreviations the prefixes above miss: German `Mrz`, Dutch `mrt`.
_EXTRA_MONTHS = {"mrz": 3, "mrt": 3}


def _without_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _month_numbers() -> dict[str, int]:
    """Every name and abbreviation of a month, lower-cased, with and without accents. A prefix
    that two months share (French `jui`: juin, juillet) names neither."""
    seen: dict[str, set[int]] = {}
    for language in _MONTH_NAMES:
        for number, name in enumerate(language.split(), start=1):
            for word in (name, name[:3], name[:4]):
                for spelling in (word, _without_accents(word)):
                    seen.setdefault(spelling, set()).add(number)
    months = {word: numbers.pop() for word, numbers in seen.items() if len(numbers) == 1}
    return months | _EXTRA_MONTHS


MONTHS = _month_numbers()

# The date, then the rest of the value (a time, an offset). A year of two digits is 20yy. The
# rest may not start with a digit, so `2025` is never read as `20` followed by `25`.
_REST = r"(?P<rest>(?:[^\d].*)?)"
_YEAR = r"(?P<y>\d{4}|\d{2})"
YEAR_FIRST = rf"^(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}}){_REST}$"
DAY_NAME = (
    rf"^(?P<d>\d{{1,2}})\.?[\s-]+(?:de\s+)?(?P<mon>\p{{L}}+)\.?[\s,-]+(?:de\s+)?{_YEAR}{_REST}$"
)
NAME_DAY = rf"^(?P<mon>\p{{L}}+)\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}{_REST}$"
# Day and month as numbers, in either order: `a` and `b`.
NUMERIC = rf"^(?P<a>\d{{1,2}})[/.-](?P<b>\d{{1,2}})[/.-]{_YEAR}{_REST}$"
# What may follow a date: a time of day (24-hour, or 12-hour with am/pm), perhaps an offset.
TIME = (
    r"(?i)^\s*,?\s*(?:T|at|à|um|alle|a las|às)?\s*"
    r"(?P<h>\d{1,2})[:h](?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"\s*(?P<ampm>[ap])?(?:\.?\s?m\.?)?\s*(?:h\b)?"
    r"\s*(?P<zone>Z|UTC|GMT)?\s*(?P<sign>[+-])?(?P<oh>\d{1,2})?(?::?(?P<om>\d{2}))?\s*$"
)


def _pad(number: pl.Expr) -> pl.Expr:
    return number.cast(pl.String).str.zfill(2)


def _year(two_or_four: pl.Expr) -> pl.Expr:
    return pl.when(two_or_four.str.len_chars() == 2).then("20" + two_or_four).otherwise(two_or_four)


def _date(year: pl.Expr, month: pl.Expr, day: pl.Expr) -> pl.Expr:
    """`YYYY-MM-DD`, null when any part is missing (the form did not match)."""
    return pl.concat_str([_year(year), _pad(month), _pad(day)], separator="-")


def _month(name: pl.Expr) -> pl.Expr:
    return name.str.to_lowercase().replace_strict(MONTHS, default=None, return_dtype=pl.Int32)


def _forms(order: str | None) -> dict[str, tuple[str, pl.Expr]]:
    """Per form a value may take, in order: its pattern, and its date from its parts (`p`)."""
    part = pl.col("p").struct
    forms = {
        "year_first": (YEAR_FIRST, _date(part["y"], part["m"], part["d"])),
        "day_name": (DAY_NAME, _date(part["y"], _month(part["mon"]), part["d"])),
        "name_day": (NAME_DAY, _date(part["y"], _month(part["mon"]), part["d"])),
    }
    if order is not None:
        day, month = (part["a"], part["b"])[:: 1 if order == DAY_FIRST else -1]
        forms["numbers"] = (NUMERIC, _date(part["y"], month, day))
    return forms


def _date_and_rest(text: pl.LazyFrame, order: str | None) -> pl.LazyFrame:
    """`date` (`YYYY-MM-DD`) and the `rest` after it, from the first form that fits `text`.
    Each form is matched once, in a frame of its own: an expression that named its parts
    one by one would match the pattern again for each."""
    dated = []
    for rank, (pattern, date) in enumerate(_forms(order).values()):
        matched = text.select("text", p=pl.col("text").str.extract_groups(pattern))
        dated.append(
            matched.select("text", rank=pl.lit(rank), date=date, rest=pl.col("p").struct["rest"])
        )
    found = pl.concat(dated).filter(pl.col("date").is_not_null())
    first = found.sort("rank").unique("text", keep="first").drop("rank")
    return text.join(first, on="text", how="left", nulls_equal=True)


def _clock(dated: pl.LazyFrame) -> pl.LazyFrame:
    """`clock`: the time of `rest` as `THH:MM:SS[.f][±HH:MM]`, empty for a date alone, null when
    `rest` reads as no time."""
    part = pl.col("t").struct
    hour, ampm = part["h"].cast(pl.Int32), part["ampm"].str.to_lowercase()
    # 12-hour: 12 am is midnight, 1-11 pm are 13-23; an hour outside 1-12 with am/pm is no time.
    hour24 = (
        pl.when(ampm.is_null())
        .then(hour)
        .when(~hour.is_between(1, 12))
        .then(None)
        .when(ampm == "a")
        .then(hour % 12)
        .otherwise(hour % 12 + 12)
    )
    fraction = pl.when(part["f"].is_not_null()).then("." + part["f"]).otherwise(pl.lit(""))
    no_offset = part["sign"].is_null() & part["oh"].is_null() & part["om"].is_null()
    offset = (
        pl.when(part["sign"].is_not_null() & part["oh"].is_not_null())
        .then(
            pl.concat_str([part["sign"], _pad(part["oh"]), pl.lit(":"), part["om"].fill_null("00")])
        )
        .when(no_offset & part["zone"].is_not_null())
        .then(pl.lit("+00:00"))
        .when(no_offset)
        .then(pl.lit(""))
    )
    time = [
        pl.lit("T"),
        _pad(hour24),
        pl.lit(":"),
        part["m"],
        pl.lit(":"),
        part["s"].fill_null("00"),
    ]
    clock = pl.concat_str([*time, fraction, offset])
    alone = pl.col("rest").str.strip_chars() == ""
    return (
        dated.with_columns(t=pl.col("rest").str.extract_groups(TIME))
        .with_columns(clock=pl.when(alone).then(pl.lit("")).otherwise(clock))
        .drop("t")
    )


def iso(values: pl.Series, order: str | None = None) -> pl.Series:
    """ISO 8601 text of each value, in any unambiguous form, or in numbers as `order` (`dmy`,
    `mdy`) says; the value as written when it is none of them, for the contract to reject.
    Whether the date exists (31 February) is the contract's to say, with its reason.

    Each distinct value is read once: an export repeats its workouts' starts on every set."""
    raw = values.rename("raw").cast(pl.String)
    distinct = raw.unique().to_frame().lazy().with_columns(text=pl.col("raw").str.strip_chars())
    read = _clock(_date_and_rest(distinct, order)).select(
        "raw",
        iso=pl.when(pl.col("date").is_not_null() & pl.col("clock").is_not_null())
        .then(pl.col("date") + pl.col("clock"))
        .otherwise(pl.col("raw")),
    )
    aligned = (
        raw.to_frame()
        .lazy()
        .join(read, on="raw", how="left", nulls_equal=True, maintain_order="left")
    )
    return aligned.collect()["iso"].rename(values.name)


@dataclass(frozen=True)
class DateOrder:
    """How a file's day and month in numbers are read: `order` (dmy, mdy) and where it came
    from (`source`); both None when the file writes no date that way, and `order` None with
    source UNDECIDED when nothing says."""

    order: str | None = None
    source: str | None = None

    def on(self, decisions: Decisions) -> Decisions:
        """`decisions` with this order in them."""
        return replace(decisions, date_order=self.order, date_order_source=self.source)

    @property
    def sentence(self) -> str:
        words = {DAY_FIRST: "day first", MONTH_FIRST: "month first"}
        sources = {
            FROM_FILE: "from the file's own dates",
            FROM_EARLIER_FILES: "as this athlete's earlier files of this format",
            FROM_SETTING: "from the date_order setting",
        }
        if self.order is None:
            return "day and month order unknown: dates written in numbers are rejected"
        return f"dates read {words[self.order]} ({sources[self.source or FROM_FILE]})"


def order_in(values: pl.Series) -> str | None:
    """The order a file's own dates in numbers show: a first number above 12 is a day (`dmy`),
    a second one above 12 is (`mdy`). None when none does, or when both do."""
    parts = values.str.strip_chars().str.extract_groups(NUMERIC).struct.unnest()
    day_first = bool((parts["a"].cast(pl.Int32) > 12).any())
    month_first = bool((parts["b"].cast(pl.Int32) > 12).any())
    if day_first == month_first:
        return None
    return DAY_FIRST if day_first else MONTH_FIRST


def decide_order(values: pl.Series, hints: ReadHints, fmt: str) -> DateOrder:
    """The day/month order of a file's dates (DESIGN.md, "Timestamps"): from its own values,
    else as this athlete's earlier files of the format were read, else the athlete's
    `date_order` setting; unknown when none says (the ambiguous rows are then rejected)."""
    if not bool(values.str.strip_chars().str.contains(NUMERIC).any()):
        return DateOrder()
    own = order_in(values)
    if own is not None:
        return DateOrder(own, FROM_FILE)
    earlier = hints.earlier(fmt).date_order
    if earlier is not None:
        return DateOrder(earlier, FROM_EARLIER_FILES)
    if hints.date_order is not None:
        return DateOrder(hints.date_order, FROM_SETTING)
    return DateOrder(None, UNDECIDED)
