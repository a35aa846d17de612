"""The engine against a plain Python reading of the rules (tests/rules/reference.py) over
generated histories: lifters who follow the flags, miss, stall, step back on their own, go
heavier than asked, and take breaks of 20-22 days or half a year; kg and lb (150 lb resets to
135 lb), machines with stack increments, bodyweight, assisted dips; the fixed table (the seed's
programs, double_progression on the bench press) and the lifter's own scheme (the squat, the
dips); programs with other settings and athletes with overrides of their own."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import evaluate
from schemas.config_files import Program, ProgramsFile
from tests.cases import RULE_SETS_SCHEMA, assigned, shipped_programs
from tests.rules import reference as ref

AS_OF = date(2026, 6, 30)
SHIPPED = assigned(shipped_programs(), "double_progression", "bench_press")
EXERCISES = ("back_extension", "back_extension_machine", "bench_press", "squat", "assisted_dip")
ASSISTED = ("assisted_dip",)
# The first top load, in the lifter's unit.
START_LOADS = {"kg": (20.0, 40.0, 52.5, 60.0, 100.0), "lb": (45.0, 95.0, 135.0, 150.0)}
STACKS_KG = (None, 5.0, 7.5, 10 * ref.LB)
# Days from the last session to the as-of date: either side of break_days and dormant_days,
# and mostly a few days, as for a lifter who trains.
NEAR = (13, 14, 15, *(20, 21, 22) * 2, 30, 59, 60, 61, 179, 180, 181, 400)
FINAL_GAPS = (*(0, 1, 2, 3, 4) * 4, *NEAR)
# Weights of what a lifter does next: follow the flag, fall short of it in reps or sets, repeat
# the last session, step back on their own, go heavier or lighter than the flag says.
MOVES = ("follow", "fewer_reps", "fewer_sets", "repeat", "step_back", "heavier", "lighter")
STYLES = {
    "steady": (80, 6, 2, 6, 2, 2, 2),
    "mixed": (50, 15, 5, 12, 6, 6, 6),
    "struggling": (25, 35, 8, 20, 4, 4, 4),
}
PAIRS_PER_BATCH = 10
EXAMPLES = 100


@dataclass(frozen=True)
class Lifter:
    """How one athlete trains one exercise."""

    exercise: str
    unit: str
    stack: float | None
    start_load: float  # in the unit
    sessions: int
    after_as_of: int  # sessions logged after the as-of date, which must not count
    final_gap: int
    style: str  # how often they do what the flag says: STYLES
    seed: int


@st.composite
def lifters(draw: st.DrawFn) -> Lifter:
    exercise = draw(st.sampled_from(EXERCISES))
    unit = draw(st.sampled_from(("kg", "lb")))
    bodyweight = exercise in ("back_extension", "squat") and draw(st.booleans())
    stack = draw(st.sampled_from(STACKS_KG)) if exercise == "back_extension_machine" else None
    return Lifter(
        exercise=exercise,
        unit=unit,
        stack=stack,
        start_load=0.0 if bodyweight else draw(st.sampled_from(START_LOADS[unit])),
        sessions=draw(st.integers(1, 16)),
        after_as_of=draw(st.sampled_from((0, 0, 0, 1, 2))),
        final_gap=draw(st.sampled_from(FINAL_GAPS)),
        style=draw(st.sampled_from(sorted(STYLES))),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@st.composite
def program_changes(draw: st.DrawFn, scheme: str) -> dict[str, object]:
    """Some fields of a program of that scheme set otherwise than shipped (or none)."""
    choices: dict[str, st.SearchStrategy[object]] = {
        "stall_sessions": st.sampled_from((0, 1, 2, 3, 4)),
        "break_days": st.sampled_from((0, 14, 21)),
        "deload_factor": st.sampled_from((0.5, 0.8, 0.85, 0.9, 1.0)),
        "dormant_days": st.sampled_from((0, 60, 180)),
        "confirm_load": st.integers(1, 3),
        "intro_sessions": st.sampled_from((0, 1, 3)),
        "rpe_cap": st.sampled_from((9.0, 10.0)),
        "sets_on_ladder": st.booleans(),
        "rep_step": st.sampled_from((1, 2)),
        "load_step_kg": st.sampled_from((1.25, 2.5, 5.0)),
        "load_step_lb": st.sampled_from((2.5, 5.0, 10.0)),
        "sessions_per_week": st.sampled_from((None, 1, 2)),
        "first_in_session": st.booleans(),
        "scheme_sessions": st.sampled_from((2, 4, 8)),
    }
    for name in ("sets_on_ladder", "rep_step", "intro_sessions") if scheme == "own" else ():
        del choices[name]
    if scheme == "fixed":
        del choices["scheme_sessions"]
    names = draw(st.lists(st.sampled_from(sorted(choices)), max_size=4, unique=True))
    changes = {name: draw(choices[name]) for name in names}
    break_days, dormant_days = changes.get("break_days", 21), changes.get("dormant_days", 180)
    if break_days and dormant_days and dormant_days <= break_days:
        changes["dormant_days"] = 0  # the config would refuse it
    return changes


@st.composite
def programs_files(draw: st.DrawFn, athletes: list[str]) -> ProgramsFile:
    """The shipped programs, some changed, and overrides for some athletes."""
    data = SHIPPED.model_dump()
    for program in data["programs"].values():
        program |= draw(program_changes(program["scheme"]))
    overrides: dict[str, dict[str, dict[str, object]]] = {}
    for athlete in athletes:
        pid = draw(st.sampled_from((None, None, "default", "hyperextension")))
        if pid is not None:
            scheme = data["programs"][pid]["scheme"]
            overrides[athlete] = {pid: draw(program_changes(scheme))}
    return ProgramsFile.model_validate(data | {"overrides": overrides})


@dataclass(frozen=True)
class Batch:
    lifters: list[list[Lifter]]  # per athlete; an athlete's exercises may share workouts
    together: list[bool]
    programs: ProgramsFile


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    per_athlete: list[list[Lifter]] = []
    while sum(len(a) for a in per_athlete) < PAIRS_PER_BATCH:
        own = draw(st.lists(lifters(), min_size=1, max_size=2, unique_by=lambda x: x.exercise))
        per_athlete.append(own[: PAIRS_PER_BATCH - sum(len(a) for a in per_athlete)])
    together = [draw(st.booleans()) for _ in per_athlete]
    athletes = [f"a{n}" for n in range(len(per_athlete))]
    return Batch(per_athlete, together, draw(programs_files(athletes)))


# --- a lifter, session by session -----------------------------------------------------------


def _in_unit(kg: float, unit: str) -> float:
    return round(ref.in_unit(kg, unit), 2)


def _kg(load: float, unit: str) -> float:
    return load * ref.LB if unit == "lb" else load


def _step(lifter: Lifter, program: Program) -> float:
    """The load step in the lifter's unit."""
    if lifter.stack is not None:
        return _in_unit(lifter.stack, lifter.unit)
    return program.load_step_lb if lifter.unit == "lb" else program.load_step_kg


def _next(
    rng: random.Random,
    style: str,
    advice: ref.Flag | None,
    last: tuple[int, int, float],
    step: float,
) -> tuple[int, int, float]:
    """What the lifter does next (sets, reps, load in the unit): mostly what the flag says."""
    s, r, load = last
    if advice is not None and advice.next is not None:
        s, r, load = advice.next[0], advice.next[1], _in_unit(advice.next[2], advice.unit)
    mode = rng.choices(MOVES, weights=STYLES[style])[0]
    if mode == "fewer_reps":
        return s, max(1, r - rng.choice((1, 1, 2))), load
    if mode == "fewer_sets":
        return max(1, s - 1), r, load
    if mode == "repeat":
        return last
    if mode == "step_back" and last[2] > 0:
        lighter = step * int(last[2] * rng.choice((0.8, 0.9)) / step)
        return s, max(1, r - 2), lighter
    if mode == "heavier":  # often with fewer reps than asked: never a miss
        return s, max(1, r - rng.choice((0, 1, 2))), load + step
    if mode == "lighter" and load >= step:
        return s, r, load - step
    return s, r, load


def _sets(
    rng: random.Random, lifter: Lifter, achieved: tuple[int, int, float], cap: float
) -> list[tuple[str, int | None, float, float | None]]:
    """Sets (type, reps, load in kg, RPE) that achieve S x R @ L, with warm-ups, a back-off
    set, a drop set, a timed set, loads a few grams off, and RPE at the cap."""
    s, r, load = achieved
    kg = _kg(load, lifter.unit)
    if kg > 0 and rng.random() < 0.1:
        kg += 0.004  # plates a few grams heavy: the same load, within the tolerance
    sets: list[tuple[str, int | None, float, float | None]] = []
    if kg > 0 and rng.random() < 0.3:
        sets.append(("warmup", 8, kg / 2, None))
    low = rng.randrange(s)
    for n in range(s):
        reps = r if n == low else r + rng.choice((0, 0, 1, 2))
        at = kg - 0.005 if kg > 0 and n != low and rng.random() < 0.1 else kg
        rpe = rng.choices([None, 8.0, cap], weights=[85, 10, 5])[0]
        sets.append((rng.choices(["working", "failure"], weights=[9, 1])[0], reps, at, rpe))
    if kg >= 20 and rng.random() < 0.2:
        sets.append(("working", r + 2, kg - 10, None))
    if rng.random() < 0.1:
        sets.append(("drop", r, kg / 2, None))
    if rng.random() < 0.05:
        sets.append(("working", None, 0.0, None))
    return sets


def _history(
    lifter: Lifter, athlete: str, programs: ProgramsFile, days: list[int] | None
) -> tuple[list[int], list[tuple[int, list[tuple[str, int | None, float, float | None]]]]]:
    """(days, [(day, sets)]): day numbers from an arbitrary start, each session's sets, the
    lifter following the flag as of the day before each session."""
    rng = random.Random(lifter.seed)
    program = programs.program_for(athlete, programs.program_id_for(lifter.exercise))
    step = _step(lifter, program)
    total = lifter.sessions + lifter.after_as_of
    if days is None:
        days = [0]
        for _ in range(total - 1):
            days.append(days[-1] + rng.choices([1, 2, 3, 4, 7, 22, 30], [4, 6, 6, 3, 2, 1, 1])[0])
    if program.scheme == "own":  # whatever the lifter does
        achieved = (rng.randint(1, 5), rng.choice((3, 5, 5, 8, 10, 12)), lifter.start_load)
    else:
        low, high = program.sets.min, program.sets.max
        achieved = (
            rng.randint(max(1, low - 1), high + 1),
            rng.choice(
                (
                    program.reps.max,
                    program.reps.max - 1,
                    rng.randint(max(1, program.reps.min - 2), program.reps.max),
                )
            ),
            lifter.start_load,
        )
    sessions: list[tuple[int, list[tuple[str, int | None, float, float | None]]]] = []
    rows: list[ref.Row] = []
    for number, day in enumerate(days[:total]):
        if number:
            as_of = _date(day - 1)
            advice = ref.flags(rows, programs, as_of).get((athlete, lifter.exercise), [])
            flag = advice[0] if advice else None
            achieved = _next(rng, lifter.style, flag, achieved, step)
        sets = _sets(rng, lifter, achieved, program.rpe_cap)
        sessions.append((day, sets))
        rows += _rows(athlete, lifter, day, 0, sets)
    return days, sessions


def _date(day: int) -> date:
    return date(2020, 1, 1) + timedelta(days=day)


def _rows(
    athlete: str,
    lifter: Lifter,
    day: int,
    block: int,
    sets: list[tuple[str, int | None, float, float | None]],
) -> list[ref.Row]:
    when = _date(day)
    start = datetime(when.year, when.month, when.day, 7, tzinfo=UTC) + timedelta(minutes=20 * block)
    return [
        ref.Row(
            athlete_id=athlete,
            exercise_id=lifter.exercise,
            session_id=f"{athlete}-{when}",
            performed_at=start + timedelta(minutes=n),
            set_type=kind,
            reps=reps,
            load_kg=kg,
            load_unit=lifter.unit,
            rpe=rpe,
            stack_increment_kg=lifter.stack,
            file_id="f",
            source_line=100 * block + n,
            assisted=lifter.exercise in ASSISTED,
        )
        for n, (kind, reps, kg, rpe) in enumerate(sets)
    ]


def batch_rows(batch: Batch) -> list[ref.Row]:
    """Every set of the batch, dated so that each lifter's last counted session is
    `final_gap` days before AS_OF and the sessions after it fall after AS_OF."""
    rows: list[ref.Row] = []
    for number, (own, together) in enumerate(zip(batch.lifters, batch.together, strict=True)):
        athlete = f"a{number}"
        shared: list[int] | None = None
        order = random.Random(number).sample(range(len(own)), len(own))
        for block, lifter in zip(order, own, strict=True):
            if together and own[0] is not lifter:
                # the next exercise is trained in the same workouts
                lifter = replace(
                    lifter,
                    sessions=own[0].sessions,
                    after_as_of=own[0].after_as_of,
                    final_gap=own[0].final_gap,
                )
            days, sessions = _history(lifter, athlete, batch.programs, shared)
            if together:
                shared = days
            last = sessions[lifter.sessions - 1][0]
            shift = (AS_OF - _date(last)).days - lifter.final_gap
            for n, (day, sets) in enumerate(sessions):
                moved = day + shift if n < lifter.sessions else (AS_OF - _date(0)).days + n
                rows += _rows(athlete, lifter, moved, block, sets)
    return rows


def frame(rows: list[ref.Row]) -> pl.DataFrame:
    return pl.DataFrame([vars(row) for row in rows], schema=RULE_SETS_SCHEMA)


# --- the comparison ---------------------------------------------------------------------------


def _rounded(value: tuple[int, int, float] | None) -> tuple[int, int, float] | None:
    return None if value is None else (value[0], value[1], round(value[2], 6))


def engine_flags(flags: pl.DataFrame) -> dict[tuple[str, str], list]:
    found: dict[tuple[str, str], list] = {}
    for flag in flags.to_dicts():
        current = flag["current_sets"], flag["current_reps"], flag["current_load_kg"]
        nxt = flag["next_sets"], flag["next_reps"], flag["next_load_kg"]
        found.setdefault((flag["athlete_id"], flag["exercise_id"]), []).append(
            (
                flag["kind"],
                flag["action"],
                _rounded(None if current[0] is None else current),
                _rounded(None if nxt[0] is None else nxt),
                flag["load_unit"],
                flag["evidence"],
                flag["reason"],
            )
        )
    return found


def _key(flag: tuple) -> tuple[str, str]:
    return ("0" if flag[0] == "progression" else "1", flag[1])


def compare(
    rows: list[ref.Row],
    programs: ProgramsFile,
    flags: pl.DataFrame | None = None,
    as_of: date = AS_OF,
) -> Counter[str]:
    """Assert the engine gives the reference's flags (those it gave, `flags`, or as of `as_of`),
    and says what it must in each reason; count what was seen."""
    want = ref.flags(rows, programs, as_of)
    got = engine_flags(evaluate(frame(rows), programs, as_of) if flags is None else flags)
    seen: Counter[str] = Counter()
    for pair, expected in want.items():
        flags = sorted(got.get(pair, []), key=_key)
        reference = sorted(expected, key=lambda f: _key((f.kind, f.action)))
        expected_rows = [
            (f.kind, f.action, _rounded(f.current), _rounded(f.next), f.unit, f.evidence)
            for f in reference
        ]
        assert [f[:6] for f in flags] == expected_rows, (pair, flags, expected)
        for flag, wanted in zip(flags, reference, strict=True):
            for words in wanted.says:
                assert words in flag[6], (pair, words, flag[6])
        seen.update(f.action for f in expected)
        seen["pair"] += 1
        seen["dormant"] += not expected
    assert set(got) <= {pair for pair, flags in want.items() if flags}
    return seen


def test_the_engine_follows_the_table_over_generated_histories() -> None:
    seen: Counter[str] = Counter()

    @settings(
        derandomize=True,
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=batches())
    def check(batch: Batch) -> None:
        seen.update(compare(batch_rows(batch), batch.programs))

    check()
    assert seen["pair"] >= 500, seen
    wanted = {
        "resume",
        "deload",
        "raise_load",
        "raise_sets",
        "raise_reps",
        "hold",
        "record",
        "do_first",
        "train_more_often",
        "dormant",
    }
    assert {name for name in wanted if seen[name] > 0} == wanted, seen
