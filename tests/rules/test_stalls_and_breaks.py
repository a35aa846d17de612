"""Rows 0 and 1a, dormant exercises and the record advice, at their edges; and the program
fields that drive them, validated like the others and overridden per athlete."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from rules import evaluate
from schemas.config_files import ConfigError, ProgramsFile
from tests.cases import LB, history, last_day, sets_of
from tests.rules.test_engine import PROGRAMS, progression, rx

STALL = [sets_of(3, 10, 60), *[sets_of(3, 9, 60)] * 3]  # DESIGN.md's stall, double_progression


def with_double_progression(**changes: Any) -> ProgramsFile:
    data = PROGRAMS.model_dump()
    data["programs"]["double_progression"] |= changes
    return ProgramsFile.model_validate(data)


@pytest.mark.parametrize(
    ("days", "action"), [(20, "raise_reps"), (21, "raise_reps"), (22, "resume")]
)
def test_a_break_is_more_than_break_days(days: int, action: str) -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat")
    assert progression(frame, as_of=last_day(2) + timedelta(days=days))["action"] == action


def test_break_days_0_never_resumes() -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat")
    flag = progression(
        frame, last_day(2) + timedelta(days=90), with_double_progression(break_days=0)
    )
    assert rx(flag) == ("raise_reps", 3, 11, 100.0)


def test_stall_sessions_0_never_deloads() -> None:
    flag = progression(
        history(STALL, exercise="bench_press"), programs=with_double_progression(stall_sessions=0)
    )
    assert flag["action"] == "raise_reps"


@pytest.mark.parametrize(("days", "flagged"), [(180, True), (181, False)])
def test_a_dormant_exercise_gets_no_flag_at_all(days: int, flagged: bool) -> None:
    # Hyperextensions ask for twice a week: a live one gets train_more_often advice too.
    frame = history([sets_of(2, 10)] * 12, every_days=7)
    flags = evaluate(frame, PROGRAMS, last_day(12, every_days=7) + timedelta(days=days))
    assert set(flags["action"]) == ({"resume", "train_more_often"} if flagged else set())


def test_dormant_days_0_keeps_every_exercise() -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat")
    as_of = last_day(2) + timedelta(days=3650)
    assert evaluate(frame, PROGRAMS, as_of).height == 0
    flag = progression(frame, as_of, with_double_progression(dormant_days=0))
    assert rx(flag) == ("resume", 3, 8, 90.0)
    assert "Last trained 10 years ago" in flag["reason"]


def test_a_stall_needs_one_more_session_than_stall_sessions() -> None:
    three = history(STALL[:3], exercise="bench_press")
    assert rx(progression(three)) == ("raise_reps", 3, 10, 60.0)
    assert rx(progression(three, programs=with_double_progression(stall_sessions=2))) == (
        "deload",
        3,
        8,
        52.5,
    )


def test_heavier_than_the_target_is_never_a_miss() -> None:
    # The last session went from 60 to 62.5 kg for 3x8 where 3x10 @ 60 kg was asked.
    sessions = [sets_of(3, 10, 60), sets_of(3, 9, 60), sets_of(3, 9, 60), sets_of(3, 8, 62.5)]
    assert rx(progression(history(sessions, exercise="bench_press"))) == (
        "raise_reps",
        3,
        9,
        62.5,
    )


def test_one_missed_session_is_a_stall_when_stall_sessions_is_1() -> None:
    frame = history(STALL[:2], exercise="bench_press", start=date(2026, 11, 14))
    flag = progression(frame, programs=with_double_progression(stall_sessions=1))
    assert flag["reason"] == (
        "Missed the target in the last session (Nov 17: 3×11 @ 60 kg): take 10% off, "
        "3×8 @ 52.5 kg, and build back up."
    )


def test_150_lb_resets_to_135_lb() -> None:
    frame = history([sets_of(3, 10, 150 * LB)] * 2, exercise="bench_press", unit="lb")
    flag = progression(frame, as_of=last_day(2) + timedelta(days=30))
    assert flag["action"] == "resume"
    assert flag["next_load_kg"] == pytest.approx(135 * LB)
    assert flag["reason"].endswith("come back at 3×8 @ 135 lb.")


def test_a_machine_resets_in_its_stack_increments() -> None:
    frame = history(
        [sets_of(3, 10, 40)] * 2, exercise="back_extension_machine", stack_increment_kg=7.5
    )
    flag = progression(frame, as_of=last_day(2) + timedelta(days=30))
    assert rx(flag) == ("resume", 3, 8, 30.0)  # 36 rounded down to 7.5 kg


def test_a_light_load_may_reset_to_bodyweight() -> None:
    intro = [sets_of(2, 10)] * 3
    frame = history([*intro, sets_of(4, 10, 2.5)])
    flag = progression(frame, as_of=last_day(4) + timedelta(days=30))
    assert rx(flag) == ("resume", 4, 10, 0.0)  # 2.25 rounded down to 2.5 kg steps is 0
    assert flag["reason"].endswith("come back at 4×10.")


def test_bodyweight_drops_a_set_but_not_below_sets_min() -> None:
    frame = history([sets_of(4, 15)] * 4)
    assert rx(progression(frame, as_of=last_day(4) + timedelta(days=30))) == (
        "resume",
        3,
        10,
        0.0,
    )
    frame = history([sets_of(2, 12)] * 4)
    assert rx(progression(frame, as_of=last_day(4) + timedelta(days=30))) == (
        "resume",
        2,
        10,
        0.0,
    )


def test_an_athlete_override_takes_a_bigger_step_back() -> None:
    programs = ProgramsFile.model_validate(
        {
            **PROGRAMS.model_dump(),
            "overrides": {"a1": {"double_progression": {"deload_factor": 0.8}}},
        }
    )
    frame = history(STALL, exercise="bench_press")
    flag = progression(frame, programs=programs)
    assert rx(flag) == ("deload", 3, 8, 47.5)  # 48 rounded down
    assert "take 20% off" in flag["reason"]
    other = history(STALL, exercise="bench_press", athlete="b2")
    assert rx(progression(other, programs=programs)) == ("deload", 3, 8, 52.5)


def records(frame: pl.DataFrame) -> list[str]:
    day = frame["performed_at"].max().date() + timedelta(days=1)
    return evaluate(frame, PROGRAMS, day).filter(pl.col("action") == "record")["reason"].to_list()


def test_no_record_without_an_earlier_loaded_session() -> None:
    assert records(history([*[sets_of(2, 15)] * 3, sets_of(2, 10, 2.5)])) == []
    assert records(history([sets_of(3, 8, 100)], exercise="squat")) == []


def test_a_record_must_beat_the_best_by_more_than_0_01_kg() -> None:
    # 3x8 @ 100 kg has an e1RM of 126.667 kg; 100.005 kg beats it by 0.0067 kg, 100.01 by 0.013.
    best = [sets_of(3, 8, 100), sets_of(3, 6, 95)]
    assert records(history([*best, sets_of(3, 8, 100.005)], exercise="squat")) == []
    found = records(history([*best, sets_of(3, 8, 100.01)], exercise="squat"))
    assert len(found) == 1 and "the best before was 126.7 kg on Sep 1" in found[0]


def test_a_record_is_in_the_lifters_unit() -> None:
    frame = history(
        [sets_of(3, 8, 135 * LB), sets_of(3, 10, 135 * LB)], exercise="bench_press", unit="lb"
    )
    assert records(frame) == [
        "New best: 3×10 @ 135 lb, an estimated 1RM of 180 lb; the best before was 171 lb on Sep 1."
    ]


@pytest.mark.parametrize(
    ("changes", "key", "reason"),
    [
        ({"deload_factor": 0.4}, "deload_factor", "greater than or equal to 0.5"),
        ({"deload_factor": 1.1}, "deload_factor", "less than or equal to 1"),
        ({"stall_sessions": -1}, "stall_sessions", "greater than or equal to 0"),
        ({"stall_sessions": 11}, "stall_sessions", "less than or equal to 10"),
        ({"break_days": -1}, "break_days", "greater than or equal to 0"),
        ({"dormant_days": -5}, "dormant_days", "greater than or equal to 0"),
        ({"dormant_days": 21}, "", "dormant_days 21 must be above break_days 21"),
        ({"stall_sessions": "three"}, "stall_sessions", "valid integer"),
    ],
)
def test_program_fields_are_validated(changes: dict[str, Any], key: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        with_double_progression(**changes)
    error = ConfigError.from_validation("programs.toml", caught.value)
    assert error.key == f"programs.double_progression{'.' + key if key else ''}"
    assert reason in error.reason


def test_0_turns_the_new_rows_off_and_the_defaults_are_the_design() -> None:
    changed = with_double_progression(stall_sessions=0, break_days=0, dormant_days=0)
    program = changed.programs["double_progression"]
    assert (program.stall_sessions, program.break_days, program.dormant_days) == (0, 0, 0)
    shorter = with_double_progression(break_days=0, dormant_days=7)
    assert shorter.programs["double_progression"].dormant_days == 7
    for shipped in PROGRAMS.programs.values():
        assert (
            shipped.stall_sessions,
            shipped.break_days,
            shipped.deload_factor,
            shipped.dormant_days,
        ) == (3, 21, 0.9, 180)


def test_an_override_is_validated_after_merging() -> None:
    data = {
        **PROGRAMS.model_dump(),
        "overrides": {"a1": {"double_progression": {"break_days": 200}}},
    }
    with pytest.raises(ValidationError, match="dormant_days 180 must be above break_days 200"):
        ProgramsFile.model_validate(data)
