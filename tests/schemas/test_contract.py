"""The SetRow contract, and proof that the vectorized executor agrees with pydantic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from schemas.set_row import RowContext, SetRow, explain
from schemas.validate import checked
from schemas.vectorized import CONTRACTS, check, rule_column

CONTEXT = RowContext(timezone="Europe/Berlin", athlete_timezones={"ny": "America/New_York"})
VALID = {
    "athlete_id": "a1",
    "performed_at": "2026-11-19T07:30:00",
    "exercise": "Squat",
    "reps": "5",
}
NAMES = [c.name for c in CONTRACTS]


def executor(rows: list[dict[str, Any]]) -> list[tuple[set[tuple[str, str]], dict[str, Any]]]:
    """Per row: the (field, rule) failures and the normalised values, as the executor sees them."""
    frame = pl.DataFrame(rows, schema={name: pl.String for name in NAMES})
    checked = check(frame, CONTEXT)
    results = []
    for row in checked.iter_rows(named=True):
        failures = {(n, row[rule_column(n)]) for n in NAMES if row[rule_column(n)] is not None}
        results.append((failures, {n: row["__value_" + n] for n in NAMES}))
    return results


def contract(row: dict[str, Any]) -> tuple[set[tuple[str, str]], dict[str, Any]]:
    errors = explain(row, CONTEXT)
    if errors:
        return {(str(e["field"]), str(e["rule"])) for e in errors}, {}
    return set(), SetRow.model_validate(row, context=CONTEXT).model_dump()


def agree(rows: list[dict[str, Any]]) -> None:
    for row, (failures, values) in zip(rows, executor(rows), strict=True):
        expected_failures, expected_values = contract(row)
        assert failures == expected_failures, row
        if not failures:
            assert values == expected_values, row


@pytest.mark.parametrize(
    ("field", "text", "accepted"),
    [
        ("reps", " 12 ", True),
        ("reps", "+5", True),
        ("reps", "12.0", True),
        ("reps", "12.5", False),
        ("reps", "1e1", False),
        ("reps", "1_0", False),
        ("reps", "nan", False),
        ("reps", "١٢", False),  # Arabic-Indic digits are not ASCII digits
        ("load", "-0.0", True),
        ("load", "inf", False),
        ("load", "2,5", False),
        ("load", ".5", True),
        ("load", "5.", True),
        ("performed_at", "2026-11-19t07:30:00z", True),
        ("performed_at", "2026-11-19T07:30:00+0100", True),
        ("performed_at", "2026-11-19", True),
        ("performed_at", "1763534400", False),
        ("performed_at", "2026-02-30T07:30:00", False),
        ("performed_at", "2026-03-29T02:30:00", False),  # skipped by Berlin's clocks
        ("performed_at", "1900-01-01T00:00:00Z", False),
        ("performed_at", "2026-11-19T24:00:00", False),
        ("performed_at", "2026-11-19T07:30:60", False),
        ("performed_at", "2026-11-19T07:30:00+25:00", False),
        ("unit", "LBS", True),
        ("unit", "stone", False),
        ("athlete_id", "a 1", False),
        ("athlete_id", "a1\n", False),
        ("exercise", " ", False),
        ("reps", "", True),  # empty is missing: fine when a duration is given
    ],
)
def test_nasty_values(field: str, text: str, accepted: bool) -> None:
    row = {**VALID, "duration_s": "30", field: text}
    failures, _ = contract(row)
    assert (field not in {f for f, _ in failures}) is accepted, failures
    agree([row])


def test_naive_times_are_read_in_the_athletes_timezone() -> None:
    berlin = SetRow.model_validate(VALID, context=CONTEXT)
    new_york = SetRow.model_validate({**VALID, "athlete_id": "ny"}, context=CONTEXT)
    assert berlin.performed_at == datetime(2026, 11, 19, 6, 30, tzinfo=UTC)
    assert new_york.performed_at == datetime(2026, 11, 19, 12, 30, tzinfo=UTC)
    agree([VALID, {**VALID, "athlete_id": "ny"}])


def test_ambiguous_local_time_is_the_earlier_instant() -> None:
    row = {**VALID, "performed_at": "2026-10-25T02:30:00"}  # Berlin falls back at 03:00
    assert SetRow.model_validate(row, context=CONTEXT).performed_at == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    agree([row])


def test_reps_may_be_empty_only_for_timed_or_distance_sets() -> None:
    assert contract({**VALID, "reps": ""})[0] == {("reps", "reps_or_measure")}
    assert contract({**VALID, "reps": "", "distance_m": "500"})[0] == set()


def test_load_limit_is_in_kg_after_conversion() -> None:
    assert contract({**VALID, "load": "2000", "unit": "lb"})[0] == set()
    assert contract({**VALID, "load": "2300", "unit": "lb"})[0] == {("load", "load_limit")}
    agree([{**VALID, "load": "2300", "unit": "lb"}, {**VALID, "load": "2000", "unit": "lb"}])


# Values that break naive parsers, mixed with arbitrary text.
NASTY = [
    "",
    " ",
    "0",
    "-0",
    "-0.0",
    "+5",
    "1e1",
    "1_0",
    "12.0",
    "12.5",
    "nan",
    "inf",
    "-inf",
    "2,5",
    "0x10",
    "١٢",
    "1000",
    "1000.5",
    "99999999999999999999",
    " 7 ",
    "10\n",
    "kg",
    "LB",
    "lbs",
    "warmup",
    "Working",
    "drop",
    "2026-11-19",
    "2026-11-19T07:30",
    "2026-11-19 07:30:00Z",
    "2026-11-19t07:30:00z",
    "2026-11-19T07:30:00+0100",
    "2026-11-19T07:30:00-05",
    "2026-02-30T10:00:00",
    "2026-03-29T02:30:00",
    "1763534400",
    "1900-01-01T00:00:00Z",
    "2100-01-01T00:00:00Z",
    "0000-01-01T00:00:00",
    "2026-11-19T07:30:00.1234567+01:00",
    "a1",
    "a 1",
    "ny",
    "x" * 65,
    "=cmd|' /C calc'!A0",
]
text = st.one_of(st.sampled_from(NASTY), st.text(max_size=12))
row_strategy = st.fixed_dictionaries({name: st.one_of(st.none(), text) for name in NAMES})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row_strategy, min_size=1, max_size=20))
def test_executor_agrees_with_pydantic(rows: list[dict[str, Any]]) -> None:
    agree(rows)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "athlete_id": st.sampled_from(["a1", "ny", "bad id"]),
                "performed_at": st.sampled_from(NASTY[27:]),
                "exercise": st.sampled_from(["Squat", " ", "Back Extension"]),
                "reps": st.sampled_from(NASTY[:20]),
                "load": st.sampled_from(NASTY[:20]),
                "unit": st.sampled_from(["kg", "lb", "", "stone"]),
            }
        ),
        min_size=1,
        max_size=20,
    )
)
def test_executor_agrees_on_mostly_valid_rows(rows: list[dict[str, Any]]) -> None:
    agree(rows)


# Few distinct texts per field, so that rejected rows often share their failing fields' texts
# while their other fields differ: what the explanations are shared by.
FEW = {
    "athlete_id": st.sampled_from(["a1", "ny", "pa", "lb1", "bad id", "", None]),
    "performed_at": st.sampled_from(
        [*NASTY[27:], "2026-11-19T07:31:00", "2026-10-25T02:30:00", None]
    ),
    "exercise": st.sampled_from(["Squat", "Row", " ", None]),
    "reps": st.sampled_from(["5", "6", "", "ten", "12.5", "-1", None]),
    "duration_s": st.sampled_from([None, "", "30", "-3"]),
    "distance_m": st.sampled_from([None, "500", "x"]),
    "unit": st.sampled_from([None, "kg", "lb", "stone"]),
    "load": st.sampled_from(["60", "2200", "2300", "heavy", "", None]),
    "rpe": st.sampled_from([None, "8", "11"]),
}
SETTINGS = RowContext(
    timezone="Europe/Berlin",
    # Paris skips the hour Berlin skips: the same text fails in both, naming its own zone.
    athlete_timezones={"ny": "America/New_York", "pa": "Europe/Paris"},
    athlete_units={"lb1": "lb"},
)


def _like(**fields: str | None) -> dict[str, str | None]:
    return {**dict.fromkeys(FEW), "exercise": "Squat", "reps": "5", "load": "60", **fields}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fixed_dictionaries(FEW), min_size=1, max_size=40))
@example(  # the same failing text, explained apart where the settings make the message differ
    [
        _like(athlete_id=athlete, performed_at="2026-03-29T02:30:00", reps=reps, load=load)
        for athlete in ("a1", "pa", "lb1", "bad id")
        for reps, load in (("5", "60"), ("", "60"), ("5", "2300"))
    ]
    # A blank that fails (a required field, reps without a measure) beside a text that passes.
    + [
        _like(performed_at="not a time", exercise=exercise, reps=reps, load="heavy")
        for exercise in (None, "Squat")
        for reps in (None, "5")
    ]
)
def test_shared_explanations_are_each_rows_own(rows: list[dict[str, Any]]) -> None:
    """Rejected rows are explained once per combination of their failing fields' texts, the
    fields other rules read and the athlete's settings; each must get what pydantic says of it."""
    frame = pl.DataFrame(rows, schema={name: pl.String for name in FEW}).with_columns(
        source_line=pl.int_range(pl.len()) + 2,
        raw=pl.lit("raw"),
        structure_error=pl.lit(None, pl.String),
    )
    _, rejects = checked(frame, SETTINGS, None)
    for line, errors in rejects.select("source_line", "errors").iter_rows():
        # As validate passes them: every field, None where the file has no value.
        row = {name: rows[line - 2].get(name) for name in NAMES}
        assert json.loads(errors) == json.loads(json.dumps(explain(row, SETTINGS), default=str))
