"""Every prescription is one small step from what the lifter actually did (DESIGN.md), held with
hypothesis over 1,000 generated histories of every structure a lifter logs: straight sets, a top
set with back-offs, pyramids up and down, ramping sets, 5×5, assisted, bodyweight and bodyweight
with added load; with bad days, light days, steps back, drop sets, warm-ups, timed sets and sets
at the RPE cap, in kg and lb, on machines whose stack increment is too big for a small step.

The histories are collected first and go through the rules in one evaluation, so that 1,000 of
them stay within `make test`'s budget. Each flag must keep the safety properties
(tests/rules/safety.py: all of them under `own`, the true numbers under a fixed program) and be
the flag the plain-Python reading gives (tests/rules/reference.py).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import evaluate
from tests.cases import assigned, shipped_programs
from tests.rules import reference as ref
from tests.rules import safety
from tests.rules.test_reference import AS_OF, compare, frame

HISTORIES = 1_000
PROGRAMS = assigned(shipped_programs(), "double_progression", "bench_press")
STRUCTURES = (
    "straight",
    "top_set_back_offs",
    "pyramid_up",
    "pyramid_down",
    "ramping",
    "five_by_five",
    "assisted",
    "bodyweight",
    "bodyweight_added_load",
)
# The exercise each structure is logged as: all of them follow the lifter's own scheme, but for
# a few straight histories on the fixed programs (their table keeps its numbers by design).
EXERCISES = {
    "assisted": "assisted_pull_up",
    "bodyweight": "push_up",
    "bodyweight_added_load": "dip",
}
FIXED = ("bench_press", "back_extension", "back_extension_machine")
# What the lifter does from one session to the next, and how often: a lifter who progresses,
# and one who is stuck.
MOVES = (
    "repeat",
    "rep",
    "load",
    "set",
    "bad_day",
    "light_day",
    "step_back",
    "rpe_cap",
    "big_jump",
    "fade",
    "short_day",
)
STYLES = {
    "progressing": (30, 18, 14, 5, 10, 8, 5, 5, 5, 2, 5),
    "stuck": (60, 2, 8, 1, 5, 2, 2, 4, 2, 14, 5),
}
Set = tuple[str, int | None, float, float | None]  # type, reps, load in kg, RPE


@dataclass(frozen=True)
class Lifter:
    structure: str
    exercise: str
    unit: str
    stack_kg: float | None
    sessions: int
    final_gap: int
    style: str
    seed: int


@st.composite
def lifters(draw: st.DrawFn) -> Lifter:
    structure = draw(st.sampled_from(STRUCTURES))
    exercise = EXERCISES.get(structure, "squat")
    if structure in ("straight", "five_by_five", "top_set_back_offs") and draw(st.booleans()):
        exercise = draw(st.sampled_from(FIXED))
    machine = exercise == "back_extension_machine" or draw(st.integers(0, 9)) == 0
    return Lifter(
        structure=structure,
        exercise=exercise,
        unit=draw(st.sampled_from(("kg", "kg", "lb"))),
        # 10 kg on a light stack is more than a small step
        stack_kg=draw(st.sampled_from((2.5, 5.0, 10.0))) if machine else None,
        sessions=draw(st.integers(1, 14)),
        final_gap=draw(st.sampled_from((1, 1, 1, 1, 1, 2, 2, 3, 3, 5, 8, 15, 22, 60))),
        style=draw(st.sampled_from(("progressing", "progressing", "stuck"))),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


def _kg(load: float, unit: str) -> float:
    return load * ref.LB if unit == "lb" else load


def _structured(structure: str, sets: int, reps: int, load: float) -> list[tuple[int, float]]:
    """(reps, load) of the working sets of one session, top load `load`, in the unit."""
    lighter = [round(load * share / 2.5) * 2.5 for share in (0.6, 0.7, 0.8, 0.9)]
    match structure:
        case "top_set_back_offs":
            return [(reps, load), *[(reps + 2, lighter[3])] * (sets + 1)]
        case "pyramid_up":
            return [(reps + 4, lighter[2]), (reps + 2, lighter[3]), (reps, load)]
        case "pyramid_down":
            return [(reps, load), (reps + 2, lighter[3]), (reps + 4, lighter[2])]
        case "ramping":
            return [*[(reps, kg) for kg in lighter[sets % 2 :]], (reps, load)]
        case _:
            return [(reps, load)] * sets


def _start(rng: random.Random, lifter: Lifter) -> tuple[int, int, float]:
    """The first session's S x R @ L (L in the unit; help for an assisted lifter)."""
    if lifter.structure == "five_by_five":
        return 5, 5, rng.choice((60.0, 100.0, 135.0))
    if lifter.exercise in FIXED:  # near the top of the program's range
        return rng.randint(3, 4), rng.choice((10, 12, 15)), rng.choice((20.0, 40.0, 60.0))
    sets = 1 if lifter.structure == "top_set_back_offs" else rng.randint(1, 5)
    if lifter.structure == "bodyweight":
        return sets, rng.randint(5, 20), 0.0
    if lifter.structure == "bodyweight_added_load":
        return sets, rng.randint(5, 12), rng.choice((0.0, 10.0, 20.0))
    return sets, rng.choice((3, 5, 8, 10, 12, 15)), rng.choice((20.0, 40.0, 60.0, 135.0))


def _session(
    rng: random.Random, lifter: Lifter, state: tuple[int, int, float], move: str, step: float
) -> list[Set]:
    """One session's sets, from the lifter's state and what happens that day."""
    sets, reps, load = state
    if move == "light_day":
        load = round(load * 0.7 / step) * step
    if move == "short_day":  # out of time: two sets fewer
        sets = max(1, sets - 2)
    working = _structured(lifter.structure, sets, reps, load)
    if move == "bad_day":
        last_reps, last_load = working[-1]
        working[-1] = (max(1, last_reps - rng.choice((1, 2, 3))), last_load)
    logged: list[Set] = []
    if load > 0 and rng.random() < 0.3:
        logged.append(("warmup", 8, _kg(load / 2, lifter.unit), None))
    for number, (r, kg) in enumerate(working):
        rpe = 10.0 if move == "rpe_cap" and number == len(working) - 1 else None
        kind = "failure" if rng.random() < 0.05 else "working"
        logged.append((kind, r, _kg(kg, lifter.unit), rpe))
    if load > 0 and rng.random() < 0.1:
        logged.append(("drop", reps + 4, _kg(load / 2, lifter.unit), None))
    if rng.random() < 0.1:
        logged.append(("working", None, 0.0, None))  # a timed set
    return logged


def _next(
    rng: random.Random, lifter: Lifter, state: tuple[int, int, float], step: float
) -> tuple[str, tuple[int, int, float]]:
    """What the lifter does next time, and their state after it."""
    sets, reps, load = state
    move = rng.choices(MOVES, weights=STYLES[lifter.style])[0]
    if lifter.structure == "five_by_five" and move in ("rep", "set"):
        move = "load"
    help_off = -1 if lifter.structure == "assisted" else 1
    match move:
        case "rep":
            return move, (sets, reps + 1, load)
        case "set":
            return move, (min(sets + 1, 6), reps, load)
        case "load" if lifter.structure != "bodyweight":
            return move, (sets, max(3, reps - 2), max(0.0, load + help_off * step))
        case "big_jump" if lifter.structure != "bodyweight":
            return move, (sets, reps, max(0.0, load + help_off * 4 * step))
        case "step_back":
            return move, (sets, reps, max(0.0, round(load * 0.9 / step) * step))
        case "fade":
            return move, (sets, max(1, reps - 1), load)
    return move, state


def history(lifter: Lifter, athlete: str) -> tuple[list[ref.Row], Counter[str]]:
    """The lifter's sets, their last session `final_gap` days before AS_OF; and what happened."""
    rng = random.Random(lifter.seed)
    step = 5.0 if lifter.unit == "lb" else 2.5
    state, move = _start(rng, lifter), "repeat"
    days, seen = [0], Counter([lifter.structure])
    for _ in range(lifter.sessions - 1):
        days.append(days[-1] + rng.choice((2, 3, 3, 4, 7)))
    shift = (AS_OF - datetime(2020, 1, 1, tzinfo=UTC).date()).days - days[-1] - lifter.final_gap
    rows: list[ref.Row] = []
    for day in days:
        started = datetime(2020, 1, 1, 7, tzinfo=UTC) + timedelta(days=day + shift)
        for n, (kind, reps, kg, rpe) in enumerate(_session(rng, lifter, state, move, step)):
            rows.append(
                ref.Row(
                    athlete_id=athlete,
                    exercise_id=lifter.exercise,
                    session_id=f"{athlete}-{day}",
                    performed_at=started + timedelta(minutes=n),
                    set_type=kind,
                    reps=reps,
                    load_kg=kg,
                    load_unit=lifter.unit,
                    rpe=rpe,
                    stack_increment_kg=lifter.stack_kg,
                    file_id="f",
                    source_line=n,
                    assisted=lifter.structure == "assisted",
                )
            )
            seen.update({kind})
        seen[move] += 1
        move, state = _next(rng, lifter, state, step)
    return rows, seen


def test_every_prescription_is_one_small_step_over_generated_histories() -> None:
    rows: list[ref.Row] = []
    seen: Counter[str] = Counter()

    @settings(
        derandomize=True,
        max_examples=HISTORIES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(lifter=lifters())
    def collect(lifter: Lifter) -> None:
        athlete = f"h{seen['histories']}"
        found, happened = history(lifter, athlete)
        rows.extend(found)
        seen.update(happened)
        seen["histories"] += 1

    collect()
    assert seen["histories"] >= HISTORIES, seen
    flags = evaluate(frame(rows), PROGRAMS, AS_OF)
    by_pair: dict[tuple[str, str], list[ref.Row]] = defaultdict(list)
    for row in rows:
        by_pair[(row.athlete_id, row.exercise_id)].append(row)
    broken = []
    for found in flags.to_dicts():
        pair = (found["athlete_id"], found["exercise_id"])
        program = PROGRAMS.program_for(pair[0], PROGRAMS.program_id_for(pair[1]))
        assisted = by_pair[pair][0].assisted
        for problem in safety.violations(found, by_pair[pair], program, assisted, AS_OF):
            broken.append((pair, found["action"], problem))
        seen[f"{program.scheme}:{found['action']}"] += 1
    assert broken == [], broken[:10]
    seen.update(compare(rows, PROGRAMS, flags))
    wanted = {
        *STRUCTURES,
        *MOVES,
        "drop",
        "warmup",
        "failure",
        *(f"own:{action}" for action in ("hold", "raise_reps", "raise_load", "deload", "resume")),
        "own:record",
        "fixed:raise_sets",
        "fixed:raise_load",
        "fixed:deload",
    }
    assert {name for name in wanted if seen[name] > 0} == wanted, seen
