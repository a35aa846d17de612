"""The shared timestamp parser (sources/timestamps.py): every unambiguous form parses back to the
instant it was written from, dates in numbers follow the file's day/month order, and a date
nothing can place is left for the contract to reject with the fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError

from schemas.text import parse_timestamp
from sources.base import Earlier, ReadHints
from sources.timestamps import DateOrder, decide_order, iso, order_in

# Month names written here, not taken from the module: the test's own reading of each language.
MONTHS = {
    "en": "January February March April May June July August September October November December",
    "en3": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "fr4": "janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}


def month(language: str, when: datetime) -> str:
    return MONTHS[language].split()[when.month - 1]


def twelve(when: datetime, am: str = "AM", pm: str = "PM") -> str:
    hour = when.hour % 12 or 12
    return f"{hour}:{when:%M} {am if when.hour < 12 else pm}"


# Each form: how it writes an instant, and the precision it keeps ("s" seconds, "m" minutes,
# "d" the day). A form with an offset writes an aware instant.
Form = tuple[str, Callable[[datetime], str]]
FORMS: dict[str, Form] = {
    "iso T seconds": ("s", lambda w: f"{w:%Y-%m-%dT%H:%M:%S}"),
    "iso T fraction Z": ("f", lambda w: f"{w:%Y-%m-%dT%H:%M:%S.%f}Z"),
    "iso ms Z": ("ms", lambda w: f"{w:%Y-%m-%dT%H:%M:%S}.{w.microsecond // 1000:03d}Z"),
    "space seconds offset colon": ("s", lambda w: f"{w:%Y-%m-%d %H:%M:%S} +00:00"),
    "space seconds offset": ("s", lambda w: f"{w:%Y-%m-%d %H:%M:%S} +0000"),
    "space minutes": ("m", lambda w: f"{w:%Y-%m-%d %H:%M}"),
    "slashes year first": ("s", lambda w: f"{w:%Y/%m/%d %H:%M:%S}"),
    "12-hour seconds pm": ("s", lambda w: f"{w:%Y-%m-%d} {twelve(w)[:-3]}:{w:%S} "
                           f"{'am' if w.hour < 12 else 'pm'}"),
    "12-hour minutes": ("m", lambda w: f"{w:%Y-%m-%d} {twelve(w, 'am', 'pm')}"),
    "24-hour h": ("m", lambda w: f"{w:%Y-%m-%d} {w.hour}:{w:%M} h"),
    "date alone": ("d", lambda w: f"{w:%Y-%m-%d}"),
    "hevy": ("m", lambda w: f"{w.day} {month('en3', w)} {w:%Y}, {w:%H:%M}"),
    "hevy us": ("m", lambda w: f"{month('en3', w)} {w.day}, {w:%Y}, {twelve(w)}"),
    "us narrow space": ("m", lambda w: f"{month('en3', w)} {w.day}, {w:%Y}, "
                        f"{twelve(w).replace(' ', chr(0x202F))}"),
    "english long": ("m", lambda w: f"{month('en', w)} {w.day}, {w:%Y} {w:%H:%M}"),
    "french": ("m", lambda w: f"{w.day} {month('fr', w)} {w:%Y} {w:%H:%M}"),
    "french abbreviated": ("m", lambda w: f"{w.day} {month('fr4', w)} {w:%Y} {w:%H:%M}"),
    "german": ("m", lambda w: f"{w.day}. {month('de', w)} {w:%Y} {w:%H:%M}"),
    "spanish": ("d", lambda w: f"{w.day} de {month('es', w)} de {w:%Y}"),
    "italian": ("s", lambda w: f"{w.day} {month('it', w)} {w:%Y} {w:%H:%M:%S}"),
    "portuguese": ("m", lambda w: f"{w.day} de {month('pt', w)} de {w:%Y} {w:%H:%M}"),
    "dutch": ("m", lambda w: f"{w.day} {month('nl', w)} {w:%Y} {w:%H:%M}"),
    "two-digit year": ("m", lambda w: f"{w.day} {month('en3', w)} {w:%y} {w:%H:%M}"),
}  # fmt: skip
NUMERIC: dict[str, Callable[[datetime], str]] = {
    "dmy": lambda w: f"{w:%d/%m/%y} {w:%H:%M}",
    "mdy": lambda w: f"{w:%m/%d/%Y} {twelve(w)}",
}
PRECISION = {
    "f": lambda w: w,
    "ms": lambda w: w.replace(microsecond=w.microsecond // 1000 * 1000),
    "s": lambda w: w.replace(microsecond=0),
    "m": lambda w: w.replace(second=0, microsecond=0),
    "d": lambda w: w.replace(hour=0, minute=0, second=0, microsecond=0),
}
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


def parsed(text: str, order: str | None = None) -> str:
    return str(iso(pl.Series([text]), order)[0])


def read_back(texts: list[str], order: str | None = None) -> list[datetime]:
    """The instants the contract reads from what the parser gives (naive text is UTC here)."""
    return [parse_timestamp(text, "UTC") for text in iso(pl.Series(texts), order)]


# Each example is a list of instants, each written in every form and parsed in one call, as a
# reader parses a file's column.
@settings(max_examples=60, derandomize=True, deadline=None)
@given(whens=st.lists(instants, min_size=1, max_size=20))
def test_any_timestamp_in_any_form_parses_back_to_itself(whens: list[datetime]) -> None:
    written = [
        (PRECISION[precision](when), write(PRECISION[precision](when)))
        for when in whens
        for precision, write in FORMS.values()
    ]
    for (when, text), instant in zip(written, read_back([t for _, t in written]), strict=True):
        assert instant == when.replace(tzinfo=UTC), text


@settings(max_examples=40, derandomize=True, deadline=None)
@given(whens=st.lists(instants, min_size=1, max_size=20), order=st.sampled_from(sorted(NUMERIC)))
def test_dates_in_numbers_parse_back_in_the_files_order(whens: list[datetime], order: str) -> None:
    whens = [when.replace(second=0, microsecond=0) for when in whens]
    texts = [NUMERIC[order](when) for when in whens]
    assert read_back(texts, order) == [when.replace(tzinfo=UTC) for when in whens], texts


@settings(max_examples=40, derandomize=True, deadline=None)
@given(
    whens=st.lists(instants, min_size=1, max_size=20),
    minutes=st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
)
def test_offsets_keep_the_instant(whens: list[datetime], minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    local = [when.replace(microsecond=0, tzinfo=zone) for when in whens]
    for written in (
        [w.isoformat(sep=" ") for w in local],
        [f"{w:%Y-%m-%d %H:%M:%S %z}" for w in local],
    ):
        assert read_back(written) == [w.astimezone(UTC) for w in local], written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jun 11, 2026, 1:01 PM", "2026-06-11T13:01:00"),
        ("Jun 11, 2026, 12:01 AM", "2026-06-11T00:01:00"),
        ("2026-03-07 09:01:00 +00:00", "2026-03-07T09:01:00+00:00"),
        ("2026-11-03T18:05:11.000Z", "2026-11-03T18:05:11.000+00:00"),
        ("2024-01-01 08:00 UTC", "2024-01-01T08:00:00+00:00"),
        ("2024-01-01T08:00:00+01", "2024-01-01T08:00:00+01:00"),
    ],
)
def test_examples_from_real_exports(text: str, expected: str) -> None:
    assert parsed(text) == expected


@pytest.mark.parametrize(
    "text", ["last Friday", "1763534400", "13:01 PM Jun 11 2026", "Foo 3, 2026"]
)
def test_a_form_not_understood_is_left_as_written(text: str) -> None:
    assert parsed(text) == text
    with pytest.raises(PydanticCustomError) as error:
        parse_timestamp(parsed(text), "UTC")
    assert error.value.type == "timestamp_text"


def test_an_hour_past_12_with_am_or_pm_is_not_a_time() -> None:
    assert parsed("Jun 11 2026 13:01 PM") == "Jun 11 2026 13:01 PM"


def test_a_date_in_numbers_without_an_order_is_rejected_with_the_fix() -> None:
    assert parsed("05/06/18") == "05/06/18"
    assert parsed("05/06/18", "dmy") == "2018-06-05"
    with pytest.raises(PydanticCustomError) as error:
        parse_timestamp(parsed("05/06/18"), "UTC")
    assert error.value.type == "ambiguous_date"
    assert 'date_order = "dmy" or "mdy"' in str(error.value)


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["05/16/18", "05/18/18"], "mdy"),
        (["19/11/18", "01/12/18"], "dmy"),
        (["05/06/18", "07/08/18"], None),  # no number above 12
        (["19/11/18", "05/16/18"], None),  # both ways: nothing to go on
    ],
)
def test_a_files_own_dates_show_its_order(values: list[str], order: str | None) -> None:
    assert order_in(pl.Series(values)) == order


def test_the_order_comes_from_the_file_then_earlier_files_then_the_setting() -> None:
    clear, unclear = pl.Series(["19/11/18"]), pl.Series(["05/06/18"])
    earlier = ReadHints(date_order="mdy", earlier_files={"f": Earlier(date_order="dmy")})
    setting = ReadHints(date_order="mdy")
    assert decide_order(clear, earlier, "f") == DateOrder("dmy", "file")
    assert decide_order(unclear, earlier, "f") == DateOrder("dmy", "earlier_files")
    assert decide_order(unclear, earlier, "other format") == DateOrder("mdy", "setting")
    assert decide_order(unclear, setting, "f") == DateOrder("mdy", "setting")
    assert decide_order(unclear, ReadHints(), "f") == DateOrder(None, "undecided")
    assert decide_order(pl.Series(["2018-11-19 10:00"]), earlier, "f") == DateOrder()
