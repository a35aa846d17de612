"""The decision table, row by row, and every example in DESIGN.md."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from rules import evaluate
from schemas.config_files import ProgramsFile
from tests.cases import (
    FIXED_LIFTS,
    LB,
    S,
    assigned,
    history,
    last_day,
    sets_of,
    shipped_programs,
)

PROGRAMS = assigned(shipped_programs(), "double_progression", *FIXED_LIFTS)
INTRO = [sets_of(2, 10)] * 3  # the hyperextension program's three introductory sessions


def progression(frame: pl.DataFrame, as_of: date | None = None, programs: ProgramsFile = PROGRAMS):
    day = as_of or frame["performed_at"].max().date() + timedelta(days=1)
    flags = evaluate(frame, programs, day)
    rows = flags.filter(pl.col("kind") == "progression").to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def rx(flag: dict) -> tuple[str, int, int, float]:
    return flag["action"], flag["next_sets"], flag["next_reps"], round(flag["next_load_kg"], 4)


# --- DESIGN.md's examples -------------------------------------------------------------------


def test_three_sessions_of_2x10_raise_reps_to_2x11() -> None:
    assert rx(progression(history(INTRO))) == ("raise_reps", 2, 11, 0.0)


def test_2x15_after_2x14_raises_sets_to_3x10() -> None:
    flag = progression(history([*INTRO, sets_of(2, 14), sets_of(2, 15)]))
    assert rx(flag) == ("raise_sets", 3, 10, 0.0)


def test_4x15_twice_raises_load_to_4x10_at_2_5_kg() -> None:
    flag = progression(history([*INTRO, sets_of(4, 15), sets_of(4, 15)]))
    assert rx(flag) == ("raise_load", 4, 10, 2.5)
    assert "hold a light dumbbell" in flag["reason"]
    assert "2.5 kg" in flag["reason"]
    assert flag["evidence"] == [last_day(5) - timedelta(days=3), last_day(5)]


def test_4x14_then_4x15_holds_at_4x15() -> None:
    flag = progression(history([*INTRO, sets_of(4, 14), sets_of(4, 15)]))
    assert rx(flag) == ("hold", 4, 15, 0.0)


def test_3x12_then_12_12_9_holds_at_3x12() -> None:
    flag = progression(history([*INTRO, sets_of(3, 12), [S(12), S(12), S(9)]]))
    assert rx(flag) == ("hold", 3, 12, 0.0)
    assert (flag["current_sets"], flag["current_reps"]) == (3, 9)


def test_machine_3x15_twice_raises_load_to_3x8_at_45_kg() -> None:
    frame = history([sets_of(3, 15, 40)] * 2, exercise="back_extension_machine")
    assert rx(progression(frame)) == ("raise_load", 3, 8, 45.0)


def test_machine_10_10_raises_sets_to_3x10() -> None:
    frame = history([sets_of(2, 10, 40)], exercise="back_extension_machine")
    assert rx(progression(frame)) == ("raise_sets", 3, 10, 40.0)


def test_machine_3x15_with_rpe_10_holds() -> None:
    frame = history(
        [sets_of(3, 15, 40), [S(15, 40), S(15, 40), S(15, 40, rpe=10)]],
        exercise="back_extension_machine",
    )
    flag = progression(frame)
    assert rx(flag) == ("hold", 3, 15, 40.0)
    assert "RPE 10" in flag["reason"]


# Stalls and breaks (double_progression, 2.5 kg / 5 lb steps).


def test_3x9_three_times_after_3x10_deloads_to_3x8_at_52_5_kg() -> None:
    frame = history([sets_of(3, 10, 60), *[sets_of(3, 9, 60)] * 3], exercise="bench_press")
    flag = progression(frame)
    assert rx(flag) == ("deload", 3, 8, 52.5)  # 54 rounded down to 2.5 kg
    assert flag["evidence"] == [last_day(n) for n in (2, 3, 4)]


def test_the_same_stall_at_135_lb_deloads_to_120_lb() -> None:
    sessions = [sets_of(3, 10, 135 * LB), *[sets_of(3, 9, 135 * LB)] * 3]
    flag = progression(history(sessions, exercise="bench_press", unit="lb"))
    assert flag["action"] == "deload"
    assert flag["next_load_kg"] == pytest.approx(120 * LB)  # 121.5 rounded down to 5 lb
    assert (flag["next_sets"], flag["next_reps"], flag["load_unit"]) == (3, 8, "lb")
    assert "3×8 @ 120 lb" in flag["reason"]


def test_3x10_at_100_kg_twice_30_days_ago_resumes_at_3x8_at_90_kg() -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat")
    flag = progression(frame, as_of=last_day(2) + timedelta(days=30))
    assert rx(flag) == ("resume", 3, 8, 90.0)
    assert flag["evidence"] == [last_day(2)]


def test_3x10_at_100_kg_twice_21_days_ago_raises_reps_to_3x11() -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat")
    flag = progression(frame, as_of=last_day(2) + timedelta(days=21))
    assert rx(flag) == ("raise_reps", 3, 11, 100.0)  # 21 is not more than 21


def test_hyperextension_stall_at_3x11_deloads_to_2x10() -> None:
    flag = progression(history([*INTRO, sets_of(3, 12), *[sets_of(3, 11)] * 3]))
    assert rx(flag) == ("deload", 2, 10, 0.0)


def test_the_deload_followed_is_a_step_back_not_a_miss() -> None:
    sessions = [sets_of(3, 10, 60), *[sets_of(3, 9, 60)] * 3, sets_of(3, 8, 52.5)]
    flag = progression(history(sessions, exercise="bench_press"))
    assert rx(flag) == ("raise_reps", 3, 9, 52.5)


# The reasons, and the record advice's.


def test_a_deload_names_each_missed_target() -> None:
    sessions = [sets_of(3, 10, 60), *[sets_of(3, 9, 60)] * 3]
    frame = pl.concat(
        [
            history(sessions[:1], exercise="bench_press", start=date(2026, 11, 6)),
            history(sessions[1:3], exercise="bench_press", start=date(2026, 11, 10)),
            history(sessions[3:], exercise="bench_press", start=date(2026, 11, 17)),
        ]
    )
    assert progression(frame)["reason"] == (
        "Missed the target three sessions running (Nov 10: 3×11, Nov 13: 3×10, Nov 17: 3×10 @ "
        "60 kg): take 10% off, 3×8 @ 52.5 kg, and build back up."
    )


def test_a_resume_names_the_last_session_and_the_gap() -> None:
    frame = history([sets_of(3, 10, 100)] * 2, exercise="squat", start=date(2026, 10, 12))
    flag = progression(frame, as_of=date(2026, 11, 19))
    assert flag["reason"] == "Last trained 5 weeks ago (Oct 15): come back at 3×8 @ 90 kg."


def test_a_new_best_estimated_1rm_is_a_record() -> None:
    frame = history(
        [sets_of(3, 7, 100), sets_of(3, 8, 100)], exercise="squat", start=date(2026, 10, 30)
    )
    flags = evaluate(frame, PROGRAMS, date(2026, 11, 3)).filter(pl.col("action") == "record")
    assert flags.select("kind", "current_sets", "current_reps", "current_load_kg").rows() == [
        ("advice", 3, 8, 100.0)
    ]
    assert flags["reason"][0] == (
        "New best: 3×8 @ 100 kg, an estimated 1RM of 126.7 kg; the best before was 123.3 kg "
        "on Oct 30."
    )
    assert flags["evidence"][0].to_list() == [date(2026, 10, 30), date(2026, 11, 2)]


# --- every row of the decision table ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sessions", "expected", "rule"),
    [
        ([sets_of(2, 10)] * 2, ("hold", 2, 10, 0.0), 1),
        ([*INTRO[:2], [S(10), S(10, rpe=10)]], ("hold", 2, 10, 0.0), 1),
        ([*INTRO, [S(11), S(11, rpe=10)]], ("hold", 2, 11, 0.0), 2),
        ([*INTRO, sets_of(2, 12), [S(12), S(9)]], ("hold", 2, 12, 0.0), 3),
        ([*INTRO, [S(15)]], ("raise_sets", 2, 15, 0.0), 4),
        ([*INTRO, sets_of(3, 12)], ("raise_reps", 3, 13, 0.0), 5),
        ([*INTRO, sets_of(3, 15)], ("raise_sets", 4, 10, 0.0), 6),
        ([*INTRO, sets_of(4, 15), sets_of(4, 15)], ("raise_load", 4, 10, 2.5), 7),
        ([*INTRO, sets_of(4, 15)], ("hold", 4, 15, 0.0), 8),
    ],
    ids=lambda v: f"row{v}" if isinstance(v, int) else None,
)
def test_decision_table_rows(sessions: list[list[S]], expected: tuple, rule: int) -> None:
    assert rx(progression(history(sessions))) == expected


def test_regression_needs_the_same_top_load() -> None:
    # Fewer reps at a heavier load is not a regression: it is the new load's first session.
    frame = history([sets_of(3, 12, 40), sets_of(3, 8, 42.5)], exercise="bench_press", every_days=3)
    assert rx(progression(frame)) == ("raise_reps", 3, 9, 42.5)


def test_rep_increase_caps_sets_at_the_maximum() -> None:
    # Row 5: S is capped at sets max (double_progression: 3-4 sets).
    frame = history([sets_of(5, 9, 50)], exercise="bench_press")
    assert rx(progression(frame)) == ("raise_reps", 4, 10, 50.0)


def test_raise_load_without_ladder_uses_the_sets_done() -> None:
    frame = history([sets_of(3, 12, 60)] * 2, exercise="bench_press")
    flag = progression(frame)
    assert rx(flag) == ("raise_load", 3, 8, 62.5)
    assert flag["reason"].startswith("3×12 in each of the last 2 sessions")


def test_raise_load_needs_the_previous_session_clean() -> None:
    frame = history(
        [[S(12, 60), S(12, 60), S(12, 60, rpe=10)], sets_of(3, 12, 60)], exercise="bench_press"
    )
    assert rx(progression(frame)) == ("hold", 3, 12, 60.0)


# --- units, machines and set types -------------------------------------------------------------


def test_lb_lifter_gets_lb_steps() -> None:
    frame = history([sets_of(3, 12, 135 * LB)] * 2, exercise="bench_press", unit="lb")
    flag = progression(frame)
    assert flag["action"] == "raise_load"
    assert flag["next_load_kg"] == pytest.approx(140 * LB)
    assert flag["next_load_kg"] == pytest.approx(63.5029, abs=1e-4)
    assert flag["load_unit"] == "lb"
    assert "5 lb" in flag["reason"] and "140 lb" in flag["reason"]


def test_machine_stack_increment_wins() -> None:
    frame = history(
        [sets_of(3, 15, 40)] * 2, exercise="back_extension_machine", stack_increment_kg=7.5
    )
    assert rx(progression(frame)) == ("raise_load", 3, 8, 47.5)


def test_warmups_are_ignored() -> None:
    warm = [S(15, 20, set_type="warmup")] * 2
    frame = history([warm + sets_of(3, 10, 40)], exercise="bench_press")
    flag = progression(frame)
    assert (flag["current_sets"], flag["current_reps"], flag["current_load_kg"]) == (3, 10, 40)


def test_drop_sets_are_ignored() -> None:
    frame = history([[*sets_of(3, 10, 40), S(20, 60, set_type="drop")]], exercise="bench_press")
    flag = progression(frame)
    assert (flag["current_sets"], flag["current_reps"], flag["current_load_kg"]) == (3, 10, 40)


def test_failure_sets_count_as_working_sets() -> None:
    frame = history([[*sets_of(2, 10, 40), S(10, 40, set_type="failure")]], exercise="bench_press")
    assert progression(frame)["current_sets"] == 3


def test_warmup_only_and_timed_sessions_count_for_nothing() -> None:
    frame = pl.concat(
        [
            history([sets_of(2, 10)], start=date(2026, 9, 1)),
            history([[S(10, set_type="warmup")]], start=date(2026, 9, 4)),
            history([[S(None)]], start=date(2026, 9, 7)),
        ]
    )
    flags = evaluate(frame, PROGRAMS, date(2026, 9, 8))
    flag = flags.filter(pl.col("kind") == "progression").to_dicts()[0]
    assert flag["evidence"] == [date(2026, 9, 1)]
    assert flag["reason"].startswith("Session 1 of 3")


def test_rpe_at_the_cap_blocks_a_raise() -> None:
    frame = history(
        [sets_of(3, 10, 40), [S(10, 40), S(10, 40, rpe=10), S(10, 40)]], exercise="bench_press"
    )
    assert progression(frame)["action"] == "hold"


# --- as-of date, timezones, overrides --------------------------------------------------------


def test_as_of_in_the_past_reproduces_an_earlier_flag() -> None:
    sessions = [*INTRO, sets_of(2, 14), sets_of(2, 15)]
    frame = history(sessions)
    earlier = progression(frame, as_of=last_day(4))
    assert rx(earlier) == ("raise_reps", 2, 15, 0.0)
    assert rx(progression(frame)) == ("raise_sets", 3, 10, 0.0)


def test_as_of_counts_sessions_in_the_athletes_timezone() -> None:
    # 07:00 UTC on Sep 10 is still Sep 9 in Honolulu (UTC-10).
    frame = history([sets_of(2, 10)] * 4, start=date(2026, 9, 1), every_days=3)
    in_honolulu = evaluate(frame, PROGRAMS, date(2026, 9, 9), {"a1": "Pacific/Honolulu"})
    in_utc = evaluate(frame, PROGRAMS, date(2026, 9, 9))
    first = lambda flags: flags.filter(pl.col("kind") == "progression").to_dicts()[0]  # noqa: E731
    assert first(in_honolulu)["evidence"] == [date(2026, 9, 9)]
    assert first(in_utc)["evidence"] == [date(2026, 9, 7)]


def test_athlete_override_replaces_program_fields() -> None:
    programs = ProgramsFile.model_validate(
        {
            **PROGRAMS.model_dump(),
            "overrides": {"a1": {"hyperextension": {"sets": [3, 4], "reps": [12, 15]}}},
        }
    )
    frame = history([sets_of(2, 10)] * 3)
    # Row 4: sets min x R, with R kept within the athlete's rep range (12-15).
    assert rx(progression(frame, programs=programs)) == ("raise_sets", 3, 12, 0.0)
    other = history([sets_of(2, 10)] * 3, athlete="b2")
    assert rx(progression(other, programs=programs)) == ("raise_reps", 2, 11, 0.0)


def test_one_progression_flag_per_athlete_and_exercise() -> None:
    frame = pl.concat(
        [
            history([sets_of(3, 10, 40)] * 2, exercise="bench_press"),
            history([sets_of(3, 10, 80)] * 2, exercise="squat"),
            history([sets_of(3, 10, 40)] * 2, exercise="bench_press", athlete="b2"),
        ]
    )
    flags = evaluate(frame, PROGRAMS, date(2026, 9, 30)).filter(pl.col("kind") == "progression")
    assert sorted(zip(flags["athlete_id"], flags["exercise_id"], strict=True)) == [
        ("a1", "bench_press"),
        ("a1", "squat"),
        ("b2", "bench_press"),
    ]


def test_reason_names_the_sessions_in_the_lifters_words() -> None:
    frame = history([*INTRO, sets_of(4, 15), sets_of(4, 15)], start=date(2026, 11, 7))
    flag = progression(frame)
    assert flag["reason"] == (
        "4×15 in each of the last 2 sessions (Nov 16, Nov 19): hold a light dumbbell to the "
        "chest, 2.5 kg, and start again at 4×10."
    )


# --- advice -----------------------------------------------------------------------------------


def test_train_more_often_after_28_days_below_the_target() -> None:
    # Hyperextension: twice a week -> 8 sessions in 28 days. Weekly sessions give 4.
    frame = history([sets_of(2, 10)] * 8, every_days=7)
    flags = evaluate(frame, PROGRAMS, last_day(8, every_days=7))
    advice = flags.filter(pl.col("action") == "train_more_often").to_dicts()
    assert len(advice) == 1
    assert advice[0]["kind"] == "advice"
    assert len(advice[0]["evidence"]) == 4
    assert flags.filter(pl.col("kind") == "progression").height == 1  # advice hides nothing


def test_no_train_more_often_before_28_days_of_history() -> None:
    frame = history([sets_of(2, 10)] * 3, every_days=7)
    flags = evaluate(frame, PROGRAMS, last_day(3, every_days=7))
    assert "train_more_often" not in flags["action"].to_list()


def test_no_train_more_often_at_twice_a_week() -> None:
    frame = history([sets_of(2, 10)] * 12, every_days=3)
    flags = evaluate(frame, PROGRAMS, last_day(12))
    assert "train_more_often" not in flags["action"].to_list()


def test_do_first_when_another_exercise_came_first() -> None:
    squat = history([sets_of(3, 5, 100)], exercise="squat")
    hyper = history([sets_of(2, 10)], exercise="back_extension").with_columns(
        pl.col("source_line") + 3, pl.col("performed_at") + timedelta(minutes=30)
    )
    flags = evaluate(pl.concat([squat, hyper]), PROGRAMS, date(2026, 9, 2))
    advice = flags.filter(pl.col("action") == "do_first").to_dicts()
    assert [(a["exercise_id"], a["kind"]) for a in advice] == [("back_extension", "advice")]
    assert "squat" in advice[0]["reason"]


def test_no_do_first_when_it_came_first() -> None:
    hyper = history([sets_of(2, 10)], exercise="back_extension")
    squat = history([sets_of(3, 5, 100)], exercise="squat").with_columns(
        pl.col("source_line") + 2, pl.col("performed_at") + timedelta(minutes=30)
    )
    flags = evaluate(pl.concat([hyper, squat]), PROGRAMS, date(2026, 9, 2))
    assert "do_first" not in flags["action"].to_list()


def test_no_sets_no_flags() -> None:
    empty = history([])
    assert evaluate(empty, PROGRAMS, date(2026, 9, 2)).height == 0
