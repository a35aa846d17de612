"""DESIGN.md's "Progression rules", read in plain Python, one athlete and exercise at a time:
the fixed table, the lifter's own scheme, assisted exercises mirrored, and the advice.

Written from the text of DESIGN.md, not from the engine: a session at a time, with loops and
ifs. tests/rules/test_reference.py and test_safety.py hold the set-based engine to it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from schemas.config_files import Program, ProgramsFile

LB = 0.45359237
TOLERANCE = 0.01
WINDOW_DAYS = 28
LIGHT_DAY = 0.15
RECORD_NEWS_DAYS = 7


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
    assisted: bool = False


@dataclass(frozen=True)
class Achieved:
    """What one session achieved: S x R @ L, and what else the rules ask of it: its lighter
    working sets, and whether one of them came before the top sets (a pyramid or a ramp)."""

    session_id: str
    started_at: datetime
    day: date
    sets: int
    reps: int
    load: float
    max_rpe: float | None
    unit: str
    stack: float | None
    lighter: int = 0
    ramped: bool = False


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
    lighter = [r for r in rows if r.load_kg < load - TOLERANCE]
    rpes = [r.rpe for r in top if r.rpe is not None]
    stacks = [r.stack_increment_kg for r in top if r.stack_increment_kg is not None]
    started = min(r.performed_at for r in rows)

    def first(sets: list[Row]) -> tuple[datetime, int]:
        return min((r.performed_at, r.source_line) for r in sets)

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
        lighter=len(lighter),
        ramped=bool(lighter) and first(lighter) < first(top),
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


def reset_load(last: Achieved, program: Program) -> float:
    """deload_factor x L rounded down to the step, in the lifter's unit; for an assisted
    exercise (L < 0: help) the help grows by the same share, rounded up."""
    per = LB if last.unit == "lb" else 1.0
    if last.stack is not None:
        step = last.stack / per
    else:
        step = program.load_step_lb if last.unit == "lb" else program.load_step_kg
    load = round(abs(last.load) / per, 2)
    if last.load < 0:
        return -step * math.ceil((2 - program.deload_factor) * load / step - 1e-9) * per
    return step * math.floor(program.deload_factor * load / step + 1e-9) * per


def loaded(session: Achieved) -> bool:
    return abs(session.load) > TOLERANCE


def reset(last: Achieved, program: Program) -> tuple[int, int, float]:
    sets = min(last.sets, program.sets.max)
    if loaded(last):
        return max(program.sets.min, sets), program.reps.min, reset_load(last, program)
    return max(program.sets.min, sets - 1), program.reps.min, 0.0


# --- the lifter's own scheme --------------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    """What the teaching sessions say: how many there are, the lifter's sets T, and the bottom
    and top of their reps (equal for fixed reps)."""

    teaching: int
    sets: int | None
    low: int | None
    high: int | None


def regressed(before: Achieved, session: Achieved) -> bool:
    return (
        same_load(before, session)
        and before.sets >= session.sets
        and before.reps >= session.reps
        and (before.sets > session.sets or before.reps > session.reps)
    )


def learn(sessions: list[Achieved], program: Program) -> Scheme:
    """The scheme from the last `scheme_sessions` sessions, bad days and light days aside."""
    first = max(0, len(sessions) - program.scheme_sessions)
    heaviest = max(s.load for s in sessions[first:])
    teaching = [
        s
        for n, s in enumerate(sessions)
        if n >= first
        and not (n > 0 and regressed(sessions[n - 1], s))
        and not heaviest - s.load > LIGHT_DAY * abs(heaviest) + 1e-9
    ]
    if not teaching:
        return Scheme(0, None, None, None)
    sets = Counter(s.sets for s in teaching)
    lifter_sets = next(s.sets for s in reversed(teaching) if sets[s.sets] == max(sets.values()))
    reps = Counter(s.reps for s in teaching)
    most = max(reps.values())
    common = [value for value, count in reps.items() if count == most]
    if len(common) == 1 and 2 * most >= len(teaching) and max(reps) <= common[0] + 1:
        return Scheme(len(teaching), lifter_sets, common[0], common[0])
    return Scheme(len(teaching), lifter_sets, min(reps), max(reps))


def own_stalled(sessions: list[Achieved], program: Program, scheme: Scheme) -> bool:
    stall, last = program.stall_sessions, sessions[-1]
    if stall == 0 or len(sessions) < stall + 1 or not loaded(last):
        return False
    recent = sessions[-(stall + 1) :]
    if not all(same_load(s, last) and s.reps < scheme.high for s in recent):
        return False
    return not any(b.reps > a.reps or b.sets > a.sets for a, b in pairwise(recent))


def own_reset(last: Achieved, program: Program, scheme: Scheme) -> tuple[int, int, float]:
    sets = min(last.sets, scheme.sets) if scheme.sets is not None else last.sets
    if not loaded(last):
        return sets, last.reps, 0.0
    reps = min(last.reps, scheme.low) if scheme.low is not None else last.reps
    return sets, reps, reset_load(last, program)


def own_forward(sessions: list[Achieved], program: Program) -> Rx:
    """Own's decisions after the break: DESIGN.md's "The lifter's own scheme"."""
    last = sessions[-1]
    s, r, load = last.sets, last.reps, last.load
    scheme = learn(sessions, program)
    if scheme.teaching < 2:
        return Rx("learn", "hold", s, r, load)
    assert scheme.sets is not None and scheme.low is not None and scheme.high is not None
    if not clean(last, program):
        return Rx("2", "hold", s, r, load)
    if len(sessions) > 1 and regressed(sessions[-2], last):
        before = sessions[-2]
        return Rx("3", "hold", before.sets, before.reps, before.load)
    if own_stalled(sessions, program, scheme):
        return Rx("stall", "deload", *own_reset(last, program, scheme))
    if s < scheme.sets:
        return Rx("short", "hold", min(scheme.sets, s + 1), r, load)
    if not loaded(last) and not any(x.load > TOLERANCE for x in sessions):
        return Rx("bodyweight", "raise_reps", s, r + 1, load)
    if r < scheme.high:
        return Rx("reps", "raise_reps", s, r + 1, load)
    recent = sessions[-program.confirm_load :]
    confirmed = len(recent) == program.confirm_load and all(
        clean(x, program) and same_load(x, last) and x.sets >= scheme.sets and x.reps >= scheme.high
        for x in recent
    )
    step = step_kg(last, program)
    if confirmed and step <= max(0.1 * abs(load), 5.0) + TOLERANCE:
        heavier = min(load + step, 0.0) if load < 0 else load + step
        return Rx("load", "raise_load", scheme.sets, scheme.low, heavier)
    if confirmed:
        return Rx("big_step", "raise_reps", s, r + 1, load)
    return Rx("hold", "hold", s, r, load)


def own_progression(sessions: list[Achieved], program: Program, as_of: date) -> Flag:
    last = sessions[-1]
    gap = (as_of - last.day).days
    current = (last.sets, last.reps, last.load)
    if program.break_days and gap > program.break_days:
        nxt = own_reset(last, program, learn(sessions, program))
        return Flag("progression", "resume", current, nxt, last.unit, [last.day])
    rx = own_forward(sessions, program)
    rests_on = {
        "3": 2,
        "stall": program.stall_sessions + 1,
        "load": program.confirm_load,
        "big_step": program.confirm_load,
    }.get(rx.row, 1)
    says: tuple[str, ...] = ()
    if last.lighter and rx.row != "stall":
        says = ("keep your lighter sets" if last.ramped else "keep your back-off sets",)
    return Flag(
        "progression",
        rx.action,
        current,
        (rx.sets, rx.reps, rx.load),
        last.unit,
        [s.day for s in sessions[-rests_on:]],
        says,
    )


def shown(kg: float, unit: str, decimals: int = 2) -> str:
    """A load as the reasons write it: `52.5 kg`, `135 lb`."""
    text = f"{round(in_unit(kg, unit), decimals):.{decimals}f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"


def scheme(sets: int, reps: int, kg: float, unit: str) -> str:
    return f"{sets}×{reps} @ {shown(kg, unit)}" if kg > 0.001 else f"{sets}×{reps}"


def progression(sessions: list[Achieved], program: Program, as_of: date) -> Flag:
    if program.scheme == "own":
        return own_progression(sessions, program, as_of)
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


def record(sessions: list[Achieved], as_of: date, assisted: bool) -> Flag | None:
    """A new best in the last session, when it is news: at most a week before the as-of date."""
    last = sessions[-1]
    if (as_of - last.day).days > RECORD_NEWS_DAYS:
        return None
    if assisted:
        return least_help(sessions, as_of)
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


def least_help(sessions: list[Achieved], as_of: date) -> Flag | None:
    """An assisted exercise's record: less help than ever before (loads are -help), with at
    least the reps of the earlier session with the least help (its most reps; the first)."""
    last, earlier = sessions[-1], sessions[:-1]
    if not earlier:
        return None
    most = max((s.load, s.reps) for s in earlier)
    best = next(s for s in earlier if (s.load, s.reps) == most)
    if not (last.load > best.load + TOLERANCE and last.reps >= best.reps):
        return None
    says = (f"the least before was {shown(-best.load, last.unit)} on {dated(best.day, as_of)}",)
    current = (last.sets, last.reps, last.load)
    evidence = list(dict.fromkeys([best.day, last.day]))
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
        assisted = pair_rows[0].assisted
        sessions = history([mirrored(r) for r in pair_rows], as_of)
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
            record(sessions, as_of, assisted),
        ]
        given = [a for a in advice if a is not None]
        flagged = [progression(sessions, program, as_of), *given]
        found[(athlete, exercise)] = [unmirrored(f) if assisted else f for f in flagged]
    return found


def mirrored(row: Row) -> Row:
    """An assisted exercise's help as a load below zero: the least help is the top."""
    return replace(row, load_kg=-row.load_kg) if row.assisted else row


def unmirrored(flag: Flag) -> Flag:
    """A flag's loads as stored: help."""

    def back(value: tuple[int, int, float] | None) -> tuple[int, int, float] | None:
        return None if value is None else (value[0], value[1], -value[2] + 0.0)

    return replace(flag, current=back(flag.current), next=back(flag.next))
