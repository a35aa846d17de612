"""The lifter's own scheme (`scheme = "own"`, the shipped default): every example of DESIGN.md,
and each decision at its edges."""

from __future__ import annotations

import re
from datetime import date, timedelta

import polars as pl
import pytest

from config import DEFAULT_DIR
from rules import evaluate
from schemas.config_files import ProgramsFile
from tests.cases import LB, S, history, last_day, sets_of, shipped_programs
from tests.rules.test_engine import progression, rx

PROGRAMS = shipped_programs()


def flag(sessions: list[list[S]], exercise: str = "squat", **kwargs: object) -> dict:
    return progression(history(sessions, exercise=exercise, **kwargs), programs=PROGRAMS)


def with_default(**changes: object) -> ProgramsFile:
    data = PROGRAMS.model_dump()
    data["programs"]["default"] |= changes
    return ProgramsFile.model_validate(data)


# --- DESIGN.md's examples (own, 2.5 kg steps, the day after the last session) ---------------


def test_5x5_twice_raises_the_load_to_5x5_at_102_5() -> None:
    assert rx(flag([sets_of(5, 5, 100)] * 2)) == ("raise_load", 5, 5, 102.5)


def test_5x5_5x5_then_5x4_holds_at_5x5() -> None:
    found = flag([sets_of(5, 5, 100)] * 2 + [sets_of(5, 4, 100)])
    assert rx(found) == ("hold", 5, 5, 100.0)
    assert "fell short of 5×5 @ 100 kg" in found["reason"]


def test_one_bad_set_does_not_change_a_5x5_lifters_reps() -> None:
    bad_day = [*sets_of(4, 5, 102.5), S(3, 102.5)]
    sessions = [
        *[sets_of(5, 5, 100)] * 2,
        sets_of(5, 5, 102.5),
        bad_day,
        *[sets_of(5, 5, 102.5)] * 2,
    ]
    assert rx(flag(sessions)) == ("raise_load", 5, 5, 105.0)


def test_two_sets_short_of_5x5_adds_one_set_at_a_time() -> None:
    loads = (95, 97.5, 100, 100)
    sessions = [*[sets_of(5, 5, kg) for kg in loads], *[sets_of(3, 5, 102.5)] * 2]
    found = flag(sessions)
    assert rx(found) == ("hold", 4, 5, 102.5)
    assert "where you usually do 5 sets" in found["reason"]


def test_a_top_set_with_back_offs_raises_the_top_set_only() -> None:
    session = [S(5, 200), *sets_of(3, 8, 170)]
    found = flag([session] * 2, exercise="deadlift")
    assert rx(found) == ("raise_load", 1, 5, 202.5)
    assert found["reason"].endswith("keep your back-off sets as they were.")


def test_reps_of_a_double_progression_rise_at_the_new_load() -> None:
    sessions = [sets_of(3, r, 20) for r in (10, 11, 12)] + [
        sets_of(3, 10, 22.5),
        sets_of(3, 11, 22.5),
    ]
    assert rx(flag(sessions, exercise="lateral_raise")) == ("raise_reps", 3, 12, 22.5)


def test_a_pyramid_progresses_its_top_set_and_keeps_the_lighter_sets() -> None:
    pyramid = [S(12, 60), S(10, 65), S(8, 70)]
    found = flag([pyramid] * 2, exercise="leg_press")
    assert rx(found) == ("raise_load", 1, 8, 72.5)
    assert (found["current_sets"], found["current_reps"], found["current_load_kg"]) == (1, 8, 70)
    assert found["reason"].endswith("keep your lighter sets as they were.")


def test_push_ups_at_bodyweight_add_a_rep() -> None:
    assert rx(flag([sets_of(3, 12)] * 2, exercise="push_up")) == ("raise_reps", 3, 13, 0.0)


def test_a_single_session_holds_for_one_more_to_learn_from() -> None:
    found = flag([[S(5, 200)]], exercise="deadlift")
    assert rx(found) == ("hold", 1, 5, 200.0)
    assert "Not enough sessions yet" in found["reason"]


# --- the unsafe jumps, now small steps ------------------------------------------------


def test_a_top_set_deadlifter_is_never_asked_for_3x8_at_the_top_load() -> None:
    session = [S(5, 455 * LB), *sets_of(2, 5, 405 * LB)]
    found = flag([session] * 3, exercise="deadlift", unit="lb")
    assert found["next_sets"] == 1 and found["next_reps"] <= 7


def test_a_single_machine_set_of_15_keeps_one_set() -> None:
    found = flag([[S(15, 245 * LB)]] * 2, exercise="leg_press_machine", unit="lb")
    assert found["next_sets"] == 1


def test_a_deload_after_6_6_4_2_never_asks_for_more_effort() -> None:
    stalled = [S(6, 40 * LB), S(6, 40 * LB), S(4, 40 * LB), S(2, 40 * LB)]
    found = flag(
        [[S(6, 40 * LB)] * 3 + [S(4, 40 * LB)], *[stalled] * 4], exercise="curl", unit="lb"
    )
    assert found["action"] == "deload"
    assert found["next_load_kg"] == pytest.approx(35 * LB)
    assert (found["next_sets"], found["next_reps"]) == (4, 2)


# --- how the scheme is learned ----------------------------------------------------------------


def test_light_days_do_not_teach() -> None:
    # A heavy-light lifter: 5x5 heavy, 3x10 at 70% on light days. The light days' 10 reps would
    # make the reps a double progression up to 10 if they taught.
    heavy, light = sets_of(5, 5, 100), sets_of(3, 10, 70)
    found = flag([heavy, light, heavy, light, heavy, heavy])
    assert rx(found) == ("raise_load", 5, 5, 102.5)


def test_a_jump_in_load_makes_the_sessions_before_it_light_days() -> None:
    # A real wrist-curl history: 2×12 @ 20 kg five times, then 3×10 @ 40 kg. Only the last
    # session teaches, so the lifter repeats it before anything is learned.
    found = flag([*[sets_of(2, 12, 20)] * 5, sets_of(3, 10, 40)], exercise="wrist_curl")
    assert rx(found) == ("hold", 3, 10, 40.0)
    assert found["reason"].startswith("Too few of your last sessions to learn your sets and reps")


def test_a_load_just_inside_15_percent_still_teaches() -> None:
    # 85 kg is 15% under 100 kg, not more: its 8 reps teach, so the reps run 5-8.
    found = flag([sets_of(3, 8, 85), sets_of(3, 5, 100), sets_of(3, 5, 100)])
    assert rx(found) == ("raise_reps", 3, 6, 100.0)


def test_the_lifters_sets_on_a_tie_are_the_most_recent() -> None:
    # Sets 4, 3, 4, 3 (none a bad day: the 3 sets did more reps): a tie, and the last
    # session's 3 wins, so 3 sets are not short; 10 reps is the top of 8-10.
    sessions = [sets_of(4, 8, 60), sets_of(3, 10, 60), sets_of(4, 8, 60), sets_of(3, 10, 60)]
    found = flag(sessions, exercise="row")
    assert rx(found) == ("hold", 3, 10, 60.0)
    assert "is the top of your reps" in found["reason"]


def test_reps_that_vary_are_a_double_progression_over_what_was_done() -> None:
    # 12 is the most common, but in 2 of 6 sessions, under half: the range is 8-12.
    sessions = [sets_of(3, r, 40) for r in (8, 9, 10, 11, 12, 12)]
    assert rx(flag(sessions, exercise="row")) == ("raise_load", 3, 8, 42.5)
    # in half of them, 12 is fixed reps: the next load keeps 12
    fixed = [sets_of(3, r, 40) for r in (8, 10, 12, 12)]
    assert rx(flag(fixed, exercise="row")) == ("raise_load", 3, 12, 42.5)


def test_a_common_rep_count_with_one_more_rep_now_and_then_is_fixed_reps() -> None:
    sessions = [sets_of(5, r, 100) for r in (5, 6, 5, 5)]
    assert rx(flag(sessions)) == ("raise_load", 5, 5, 102.5)


def test_two_reps_over_the_common_count_is_a_double_progression() -> None:
    sessions = [sets_of(5, r, 100) for r in (5, 7, 5, 5)]
    assert rx(flag(sessions)) == ("raise_reps", 5, 6, 100.0)


# --- decisions ----------------------------------------------------------------------------------


def test_a_stall_at_one_load_deloads_to_the_reset() -> None:
    # Reps 8-12 learned; four sessions at 60 kg, none better than the one before.
    sessions = [sets_of(3, 12, 55), sets_of(3, 9, 60), *[sets_of(3, 9, 60)] * 3]
    found = flag(sessions, exercise="row", start=date(2026, 11, 1))
    assert rx(found) == ("deload", 3, 9, 52.5)  # 54 rounded down; reps min(9, 9)
    assert found["reason"] == (
        "3×9 in each of the last 4 sessions (Nov 4, Nov 7, Nov 10, Nov 13): no progress at "
        "60 kg in four sessions; take 10% off, 3×9 @ 52.5 kg, and build back up."
    )
    assert found["evidence"] == [date(2026, 11, d) for d in (4, 7, 10, 13)]


def test_a_rep_more_in_one_of_them_is_no_stall() -> None:
    sessions = [sets_of(3, 12, 55), sets_of(3, 9, 60), sets_of(3, 9, 60), sets_of(3, 10, 60)]
    assert rx(flag([*sessions, sets_of(3, 10, 60)], exercise="row"))[0] == "raise_reps"


def test_no_stall_deload_at_bodyweight() -> None:
    sessions = [sets_of(3, 12), *[sets_of(3, 10)] * 4]
    assert flag(sessions, exercise="push_up")["action"] == "raise_reps"


def test_bodyweight_gets_load_only_when_the_lifter_has_added_some_before() -> None:
    # The weighted session is older than the window: within it, bodyweight sessions would be
    # light days beside it.
    weighted = [sets_of(3, 5, 10), *[sets_of(3, 8)] * 6]
    assert rx(flag(weighted, exercise="dip")) == ("raise_load", 3, 8, 2.5)
    assert rx(flag([sets_of(3, 8)] * 7, exercise="dip")) == ("raise_reps", 3, 9, 0.0)


def test_a_machine_step_over_10_percent_raises_reps_instead() -> None:
    # A 10 kg stack increment at 40 kg is 25% (and over 5 kg): reps rise past the top.
    frame = history([sets_of(3, 12, 40)] * 3, exercise="chest_press", stack_increment_kg=10)
    found = progression(frame, programs=PROGRAMS)
    assert rx(found) == ("raise_reps", 3, 13, 40.0)
    assert "more than 10% of the load" in found["reason"]
    within = history([sets_of(3, 12, 40)] * 3, exercise="chest_press", stack_increment_kg=5)
    assert rx(progression(within, programs=PROGRAMS)) == ("raise_load", 3, 12, 45.0)


def test_a_session_not_clean_holds() -> None:
    found = flag([sets_of(5, 5, 100), [*sets_of(4, 5, 100), S(5, 100, rpe=10)]])
    assert rx(found) == ("hold", 5, 5, 100.0)
    assert "RPE 10" in found["reason"]


def test_the_top_of_the_reps_needs_confirm_load_clean_sessions() -> None:
    climb = [sets_of(3, r, 60) for r in (8, 9, 10, 11, 12)]
    once = flag(climb, exercise="row")
    assert rx(once) == ("hold", 3, 12, 60.0)
    assert "one more clean session at 3×12 @ 60 kg before adding load" in once["reason"]
    twice = flag([*climb, sets_of(3, 12, 60)], exercise="row")
    assert rx(twice) == ("raise_load", 3, 8, 62.5)


def test_confirmations_that_differ_are_listed_session_by_session() -> None:
    found = flag(
        [sets_of(5, 5, 100), sets_of(5, 5, 100), sets_of(5, 6, 100)], start=date(2026, 3, 2)
    )
    assert found["reason"] == "Mar 5: 5×5, Mar 8: 5×6 @ 100 kg: add 2.5 kg, 5×5 @ 102.5 kg."


def test_the_reset_under_own_never_raises_sets_reps_or_load() -> None:
    # A break: min(T, S) x min(R, bottom of the reps) @ 90% rounded down.
    sessions = [sets_of(3, 8, 100), sets_of(3, 10, 100), sets_of(4, 12, 100)]
    found = progression(
        history(sessions, exercise="row"), as_of=last_day(3) + timedelta(days=30), programs=PROGRAMS
    )
    assert rx(found) == ("resume", 3, 8, 90.0)
    bodyweight = progression(
        history([sets_of(3, 15)] * 2, exercise="push_up"),
        as_of=last_day(2) + timedelta(days=30),
        programs=PROGRAMS,
    )
    assert rx(bodyweight) == ("resume", 3, 15, 0.0)


def test_scheme_sessions_is_the_window_that_teaches() -> None:
    # Sessions of 5 reps, then three of 8: the last six are a tie (5-8 reps, start again at 5);
    # with a window of 3 only the 8s teach, and 8 stays.
    sessions = [*[sets_of(3, 5, 60)] * 6, *[sets_of(3, 8, 60)] * 3]
    assert rx(flag(sessions, exercise="row")) == ("raise_load", 3, 5, 62.5)
    narrow = with_default(scheme_sessions=3)
    frame = history(sessions, exercise="row")
    assert rx(progression(frame, programs=narrow)) == ("raise_load", 3, 8, 62.5)


def test_records_are_news_only_within_a_week() -> None:
    frame = history([sets_of(3, 7, 100), sets_of(3, 8, 100)], exercise="row")
    for days, expected in ((7, 1), (8, 0)):
        flags = evaluate(frame, PROGRAMS, last_day(2) + timedelta(days=days))
        assert flags.filter(pl.col("action") == "record").height == expected, days


# --- the shipped config ---------------------------------------------------------------------------


def test_the_default_is_own_and_every_program_names_its_scheme_on_a_line() -> None:
    assert PROGRAMS.programs["default"].scheme == "own"
    assert PROGRAMS.programs["double_progression"].scheme == "fixed"
    text = (DEFAULT_DIR / "programs.toml").read_text()
    for block in re.split(r"^\[programs\.", text, flags=re.M)[1:]:
        body = block.split("\n[", 1)[0]
        assert re.search(r'^scheme = "(own|fixed)"$', body, flags=re.M), block.splitlines()[0]
    double = PROGRAMS.programs["double_progression"]
    assert (double.sets.min, double.sets.max, double.reps.min, double.reps.max) == (3, 4, 8, 12)
