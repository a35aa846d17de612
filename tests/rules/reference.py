"""DESIGN.md's "Progression rules", read in plain Python, one athlete and exercise at a time.

Written from the text of the table, not from the engine: a session at a time, with loops and
ifs. tests/rules/test_reference.py holds the set-based engine to it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from schemas.config_files import Program, ProgramsFile

LB = 0.45359237
TOLERANCE = 0.01
WINDOW_DAYS = 28


@dataclass(frozen=True)
class Row:
    """One set as the rules read it (rules.SET_COLUMNS)."""

    athlete_id: str
    exercise_id: str
    session_id: str
    performed_at: datetime
    set_type: str
    reps: int | None
    load_kg: float
    load_unit: str
    rpe: float | None
    stack_increment_kg: float | None
    file_id: str
    source_line: int


@dataclass(frozen=True)
class Achieved:
    """What one session achieved: S x R @ L, and what else the table asks of it."""

    session_id: str
    started_at: datetime
    day: date
    sets: int
    reps: int
    load: float
    max_rpe: float | None
    unit: str
    stack: float | None


@dataclass(frozen=True)
class Rx:
    """A decision: the table's row, the action and the next session."""

    row: str
    action: str
    sets: int
    reps: int
    load: float


@dataclass(frozen=True)
class Flag:
    kind: str
    action: str
    current: tuple[int, int, float] | None
    next: tuple[int, int, float] | None
    unit: str
    evidence: list[date]
    # what the reason must say, in the lifter's unit
    says: tuple[str, ...] = ()


def is_working(row: Row) -> bool:
    return row.set_type in ("working", "failure")


def achieved(session_id: str, rows: list[Row]) -> Achieved:
    """The top load is the heaviest working load; the top sets are those within 0.01 kg of
    it; S of them with at least R reps each."""
    load = max(r.load_kg for r in rows)
    top = [r for r in rows if r.load_kg >= load - TOLERANCE]
    rpes = [r.rpe for r in top if r.rpe is not None]
    stacks = [r.stack_increment_kg for r in top if r.stack_increment_kg is not None]
    started = min(r.performed_at for r in rows)
    return Achieved(
        session_id=session_id,
        started_at=started,
        day=started.astimezone(UTC).date(),
        sets=len(top),
        reps=min(r.reps for r in top if r.reps is not None),
        load=load,
        max_rpe=max(rpes) if rpes else None,
        unit="lb" if 2 * sum(r.load_unit == "lb" for r in top) > len(top) else "kg",
        stack=max(stacks) if stacks else None,
    )


def history(rows: list[Row], as_of: date) -> list[Achieved]:
    """The sessions that count, oldest first: those with a working set with reps, started on
    or before the as-of date (UTC here)."""
    by_session: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        if is_working(row) and row.reps is not None:
            by_session[row.session_id].append(row)
    sessions = [achieved(sid, sets) for sid, sets in by_session.items()]
    counted = [s for s in sessions if s.day <= as_of]
    return sorted(counted, key=lambda s: (s.started_at, s.session_id))


def clean(session: Achieved, program: Program) -> bool:
    return session.max_rpe is None or session.max_rpe < program.rpe_cap


def same_load(a: Achieved, b: Achieved) -> bool:
    return abs(a.load - b.load) <= TOLERANCE


def step_kg(session: Achieved, program: Program) -> float:
    if session.stack is not None:
        return session.stack
    return program.load_step_lb * LB if session.unit == "lb" else program.load_step_kg


def forward(sessions: list[Achieved], program: Program) -> Rx:
    """Rows 1-8, from the last of `sessions`."""
    last = sessions[-1]
    s, r, load = last.sets, last.reps, last.load
    sets_min, sets_max = program.sets.min, program.sets.max
    reps_min, reps_max = program.reps.min, program.reps.max
    target = sets_max if program.sets_on_ladder else min(s, sets_max)
    if len(sessions) < program.intro_sessions:
        return Rx("1", "hold", s, r, load)
    if not clean(last, program):
        return Rx("2", "hold", s, r, load)
    if len(sessions) > 1:
        before = sessions[-2]
        if (
            same_load(before, last)
            and before.sets >= s
            and before.reps >= r
            and (before.sets > s or before.reps > r)
        ):
            return Rx("3", "hold", before.sets, before.reps, before.load)
    if s < sets_min:
        return Rx("4", "raise_sets", sets_min, min(max(r, reps_min), reps_max), load)
    if r < reps_max:
        return Rx("5", "raise_reps", min(s, sets_max), min(r + program.rep_step, reps_max), load)
    if program.sets_on_ladder and s < sets_max:
        return Rx("6", "raise_sets", s + 1, reps_min, load)
    previous = sessions[:-1][-(program.confirm_load - 1) :] if program.confirm_load > 1 else []
    if len(previous) == program.confirm_load - 1 and all(
        clean(p, program) and same_load(p, last) and p.sets >= target and p.reps >= reps_max
        for p in previous
    ):
        return Rx("7", "raise_load", target, reps_min, load + step_kg(last, program))
    return Rx("8", "hold", target, reps_max, load)


def missed(sessions: list[Achieved], k: int, program: Program) -> bool:
    """Session k (0-based, not the first) fell short of what sessions 0..k-1 prescribed."""
    given = forward(sessions[:k], program)
    session, before = sessions[k], sessions[k - 1]
    if session.load < before.load - TOLERANCE:
        return False  # a step back
    if session.load > given.load + TOLERANCE:
        return False  # heavier than prescribed
    if session.load < given.load - TOLERANCE:
        return True
    return session.sets < given.sets or session.reps < given.reps


def stalled(sessions: list[Achieved], program: Program) -> bool:
    stall = program.stall_sessions
    if stall == 0 or len(sessions) < stall + 1:
        return False
    n = len(sessions)
    return all(missed(sessions, k, program) for k in range(n - stall, n))


def in_unit(kg: float, unit: str) -> float:
    return kg / LB if unit == "lb" else kg


def reset(last: Achieved, program: Program) -> tuple[int, int, float]:
    sets = min(last.sets, program.sets.max)
    if last.load > 0:
        per = LB if last.unit == "lb" else 1.0
        if last.stack is not None:
            step = last.stack / per
        else:
            step = program.load_step_lb if last.unit == "lb" else program.load_step_kg
        load = round(last.load / per, 2)
        lighter = step * math.floor(program.deload_factor * load / step + 1e-9)
        return max(program.sets.min, sets), program.reps.min, lighter * per
    return max(program.sets.min, sets - 1), program.reps.min, 0.0


def shown(kg: float, unit: str, decimals: int = 2) -> str:
    """A load as the reasons write it: `52.5 kg`, `135 lb`."""
    text = f"{round(in_unit(kg, unit), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def scheme(sets: int, reps: int, kg: float, unit: str) -> str:
    return f"{sets}×{reps} @ {shown(kg, unit)}" if kg > 0.001 else f"{sets}×{reps}"


def progression(sessions: list[Achieved], program: Program, as_of: date) -> Flag:
    last = sessions[-1]
    gap = (as_of - last.day).days
    current = (last.sets, last.reps, last.load)
    if program.break_days and gap > program.break_days:
        nxt = reset(last, program)
        says = (
            f"Last trained {ago(gap)} ({dated(last.day, as_of)})",
            f"come back at {scheme(*nxt, last.unit)}",
        )
        return Flag("progression", "resume", current, nxt, last.unit, [last.day], says)
    if len(sessions) >= program.intro_sessions and stalled(sessions, program):
        nxt = reset(last, program)
        misses = sessions[-program.stall_sessions :]
        says = (
            "Missed the target",
            *(s.day.strftime("%b %-d") for s in misses),
            scheme(*nxt, last.unit),
        )
        return Flag("progression", "deload", current, nxt, last.unit, [s.day for s in misses], says)
    rx = forward(sessions, program)
    rests_on = {"3": 2, "7": program.confirm_load, "8": program.confirm_load}.get(rx.row, 1)
    return Flag(
        "progression",
        rx.action,
        current,
        (rx.sets, rx.reps, rx.load),
        last.unit,
        [s.day for s in sessions[-rests_on:]],
    )


def e1rm(session: Achieved) -> float:
    return session.load * (1 + session.reps / 30)


def ago(days: int) -> str:
    """How long ago, as a coach rounds it."""
    if days < 14:
        return f"{days} days ago"
    if days < 63:
        return f"{round(days / 7)} weeks ago"
    if days < 730:
        return f"{round(days / 30.44)} months ago"
    return f"{round(days / 365.25)} years ago"


def dated(day: date, as_of: date) -> str:
    """`Oct 15`, with the year when it is not the as-of date's."""
    return day.strftime("%b %-d" if day.year == as_of.year else "%b %-d, %Y")


def record(sessions: list[Achieved], as_of: date) -> Flag | None:
    last = sessions[-1]
    earlier = [s for s in sessions[:-1] if s.load > 0]
    if last.load <= 0 or not earlier:
        return None
    best = max(e1rm(s) for s in earlier)
    if not e1rm(last) > best + TOLERANCE:
        return None
    first = next(s for s in earlier if e1rm(s) == best)
    says = (
        f"an estimated 1RM of {shown(e1rm(last), last.unit, 1)}",
        f"the best before was {shown(best, last.unit, 1)} on {dated(first.day, as_of)}",
    )
    current = (last.sets, last.reps, last.load)
    evidence = list(dict.fromkeys([first.day, last.day]))
    return Flag("advice", "record", current, None, last.unit, evidence, says)


def train_more_often(sessions: list[Achieved], program: Program, as_of: date) -> Flag | None:
    if program.sessions_per_week is None:
        return None
    if sessions[0].day > as_of - timedelta(days=WINDOW_DAYS):
        return None
    recent = sorted(s.day for s in sessions if s.day >= as_of - timedelta(days=WINDOW_DAYS - 1))
    if len(recent) >= program.sessions_per_week * 4:
        return None
    return Flag("advice", "train_more_often", None, None, sessions[-1].unit, recent)


def do_first(
    athlete_rows: list[Row], exercise: str, last: Achieved, program: Program
) -> Flag | None:
    """In the last session, another exercise's working set came before this one's first set
    (of any type); sets in time order, then by their place in the file."""
    if not program.first_in_session:
        return None
    ordered = sorted(
        (r for r in athlete_rows if r.session_id == last.session_id),
        key=lambda r: (r.performed_at, r.file_id, r.source_line),
    )
    first_own = next(i for i, r in enumerate(ordered) if r.exercise_id == exercise)
    if any(is_working(r) and r.exercise_id != exercise for r in ordered[:first_own]):
        return Flag("advice", "do_first", None, None, last.unit, [last.day])
    return None


def flags(
    rows: list[Row], programs: ProgramsFile, as_of: date
) -> dict[tuple[str, str], list[Flag]]:
    """Every athlete and exercise's flags, progression first; none for a dormant one."""
    by_pair: dict[tuple[str, str], list[Row]] = defaultdict(list)
    by_athlete: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_pair[(row.athlete_id, row.exercise_id)].append(row)
        by_athlete[row.athlete_id].append(row)
    found: dict[tuple[str, str], list[Flag]] = {}
    for (athlete, exercise), pair_rows in by_pair.items():
        sessions = history(pair_rows, as_of)
        if not sessions:
            continue
        program = programs.program_for(athlete, programs.program_id_for(exercise))
        gap = (as_of - sessions[-1].day).days
        if program.dormant_days and gap > program.dormant_days:
            found[(athlete, exercise)] = []
            continue
        advice = [
            train_more_often(sessions, program, as_of),
            do_first(by_athlete[athlete], exercise, sessions[-1], program),
            record(sessions, as_of),
        ]
        given = [a for a in advice if a is not None]
        found[(athlete, exercise)] = [progression(sessions, program, as_of), *given]
    return found
