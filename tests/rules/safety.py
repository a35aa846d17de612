"""DESIGN.md's "Every prescription is one small step from what the lifter actually did", written
once as a checker: given one athlete and exercise's sets and the flags the engine gave them,
the ways a flag breaks the properties.

Read from the sets in plain Python (tests/rules/reference.py groups them into sessions), never
from the engine's own columns. An assisted exercise is checked mirrored: its load is help, so
less help is heavier.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from schemas.config_files import Program
from tests.rules import reference as ref

TOLERANCE = 0.01
STEP_BACK = ("deload", "resume")
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
DAY = rf"(?:{MONTHS}) \d{{1,2}}(?:, \d{{4}})?"
# `3×8`, `3×8 @ 100 kg`, `3×8 with 20 kg assistance`
MENTION = re.compile(
    rf"(?:(?P<day>{DAY}): )?(?P<sets>\d+)×(?P<reps>\d+)"
    r"(?:(?: @ | with )(?P<load>\d+(?:\.\d+)?) (?P<unit>kg|lb)(?: assistance)?)?"
)
EACH = re.compile(
    rf"(?P<what>\d+×\d+(?:(?: @ | with )\d+(?:\.\d+)? (?:kg|lb)(?: assistance)?)?) in each of the "
    rf"last \w+ sessions \((?P<days>{DAY}(?:, {DAY})*)\)"
)
ONE_RM = re.compile(
    r"an estimated 1RM of (?P<new>[\d.]+) (?:kg|lb); the best before was "
    rf"(?P<old>[\d.]+) (?:kg|lb) on (?P<day>{DAY})"
)


@dataclass(frozen=True)
class Session:
    """One session of an exercise: what it achieved and every working set, loads mirrored
    for an assisted exercise (load = -help)."""

    day: date
    sets: int
    reps: int
    load: float
    unit: str
    stack: float | None
    max_rpe: float | None
    working: tuple[tuple[int, float], ...]  # (reps, load) of every working set with reps


def sessions(rows: list[ref.Row], as_of: date, assisted: bool) -> list[Session]:
    """The sessions that count, oldest first."""
    mirrored = [replace(r, load_kg=-r.load_kg) if assisted else r for r in rows]
    working: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in mirrored:
        if ref.is_working(row) and row.reps is not None:
            working[row.session_id].append((row.reps, row.load_kg))
    return [
        Session(
            day=a.day,
            sets=a.sets,
            reps=a.reps,
            load=a.load,
            unit=a.unit,
            stack=a.stack,
            max_rpe=a.max_rpe,
            working=tuple(working[a.session_id]),
        )
        for a in ref.history(mirrored, as_of)
    ]


def fixed_targets(
    rows: list[ref.Row], program: Program, as_of: date, assisted: bool
) -> dict[date, tuple[int, int, float]]:
    """What a fixed program prescribed for each of the last `stall_sessions` sessions: a
    deload's reason names them."""
    history = ref.history([replace(r, load_kg=-r.load_kg) if assisted else r for r in rows], as_of)
    targets = {}
    for k in range(max(1, len(history) - program.stall_sessions), len(history)):
        given = ref.forward(history[:k], program)
        targets[history[k].day] = (given.sets, given.reps, given.load)
    return targets


def e1rm(load: float, reps: int) -> float:
    return load * (1 + reps / 30)


def step_kg(last: Session, program: Program) -> float:
    if last.stack is not None:
        return last.stack
    return program.load_step_lb * ref.LB if last.unit == "lb" else program.load_step_kg


def _small_steps(flag: dict[str, Any], history: list[Session], program: Program) -> list[str]:
    """The first four properties, for a flag of the lifter's own scheme."""
    last = history[-1]
    s, r, load = flag["next_sets"], flag["next_reps"], flag["next_load_kg"]
    found = []
    if load > last.load + TOLERANCE:
        raise_kg = load - last.load
        if raise_kg > step_kg(last, program) + TOLERANCE:
            found.append(f"a raise of {raise_kg:.3f} kg is more than one step")
        if raise_kg > max(0.1 * abs(last.load), 5.0) + TOLERANCE:
            found.append(f"a raise of {raise_kg:.3f} kg is more than 10% and 5 kg")
        if s > last.sets or r > last.reps:
            found.append(f"{s}×{r} at a heavier load than {last.sets}×{last.reps}")
    else:
        there = [
            [reps for reps, kg in session.working if kg >= load - TOLERANCE]
            for session in history[-2:]
        ]
        most_sets = max(len(done) for done in there)
        most_reps = max(max(done, default=0) for done in there)
        if s > most_sets + 1:
            found.append(f"{s} sets where the last two sessions did {most_sets} at that load")
        if r > most_reps + 2:
            found.append(f"{r} reps where the last two sessions did {most_reps} at that load")
    if flag["action"] in STEP_BACK:
        if load > last.load + TOLERANCE:
            found.append(f"a {flag['action']} to more load")
        if s > last.sets or r > last.reps:
            found.append(f"a {flag['action']} to {s}×{r} after {last.sets}×{last.reps}")
        if last.load > 0 and e1rm(load, r) > e1rm(last.load, last.reps) + TOLERANCE:
            found.append(f"a {flag['action']} to more effort (Epley)")
    return found


def shown(kg: float, unit: str) -> float:
    return round(abs(kg) / ref.LB if unit == "lb" else abs(kg), 2)


def _matches(mention: re.Match[str], sets: int, reps: int, load: float, unit: str) -> bool:
    if (int(mention["sets"]), int(mention["reps"])) != (sets, reps):
        return False
    if mention["load"] is None:
        return True  # a load named once for a list, or bodyweight
    return mention["unit"] == unit and abs(float(mention["load"]) - shown(load, unit)) < 0.006


def _day(text: str, as_of: date) -> date:
    year = as_of.year if "," not in text else int(text.rsplit(" ", 1)[1])
    return datetime.strptime(f"{text.split(',')[0]} {year}", "%b %d %Y").date()


def _true_numbers(
    flag: dict[str, Any],
    history: list[Session],
    as_of: date,
    targets: dict[date, tuple[int, int, float]],
) -> list[str]:
    """`current_*` is the last session's achievement, and every S×R (@ L) in the reason is the
    next prescription, a session's achievement or (named with its date) that session's."""
    last, unit, found = history[-1], flag["load_unit"], []
    if flag["current_sets"] is not None:
        current = (flag["current_sets"], flag["current_reps"], flag["current_load_kg"])
        if current[:2] != (last.sets, last.reps) or abs(abs(current[2]) - abs(last.load)) > 1e-6:
            found.append(f"current {current} is not the last achievement {last}")
    by_day = {s.day: s for s in history}
    achieved = [(s.sets, s.reps, s.load) for s in history[-12:]]
    following = (
        []
        if flag["next_sets"] is None
        else [(flag["next_sets"], flag["next_reps"], flag["next_load_kg"])]
    )
    reason = flag["reason"]
    for mention in MENTION.finditer(reason):
        if mention["day"] is not None:
            day = _day(mention["day"], as_of)
            target = targets.get(day)
            session = by_day.get(day)
            told = [target] if target is not None else []
            told += [(session.sets, session.reps, session.load)] if session is not None else []
        else:
            told = following + achieved
        if not any(_matches(mention, s, r, abs(kg), unit) for s, r, kg in told):
            found.append(f"{mention[0]!r} is not in the sets: {reason!r}")
    record = ONE_RM.search(reason)
    if record is not None:
        found += _record_numbers(record, history, unit, as_of)
    for each in EACH.finditer(reason):
        (what,) = MENTION.finditer(each["what"])
        for text in re.findall(DAY, each["days"]):
            session = by_day.get(_day(text, as_of))
            if session is None or not _matches(
                what, session.sets, session.reps, abs(session.load), unit
            ):
                found.append(f"{each['what']} was not done on {text}: {reason!r}")
    return found


def _record_numbers(
    record: re.Match[str], history: list[Session], unit: str, as_of: date
) -> list[str]:
    """The new and the old best estimated 1RM, and the day of the old one."""
    last, earlier = history[-1], [s for s in history[:-1] if s.load > 0]
    best = max(e1rm(s.load, s.reps) for s in earlier) if earlier else None
    if best is None:
        return [f"a record without an earlier loaded session: {record[0]!r}"]
    first = next(s for s in earlier if e1rm(s.load, s.reps) == best)
    said = (float(record["new"]), float(record["old"]), _day(record["day"], as_of))
    true = (shown(e1rm(last.load, last.reps), unit), shown(best, unit), first.day)
    close = abs(said[0] - true[0]) <= 0.0501 and abs(said[1] - true[1]) <= 0.0501
    return [] if close and said[2] == true[2] else [f"a record says {said}, the sets {true}"]


def violations(
    flag: dict[str, Any], rows: list[ref.Row], program: Program, assisted: bool, as_of: date
) -> list[str]:
    """What is wrong with one flag of these sets (one athlete and exercise). The first four
    properties apply to the lifter's own scheme; true numbers to every flag."""
    history = sessions(rows, as_of, assisted)
    if not history:
        return [f"a flag without a session: {flag}"]
    if assisted:
        flag = flag | {
            key: -flag[key] for key in ("current_load_kg", "next_load_kg") if flag[key] is not None
        }
    fixed = program.scheme == "fixed" and flag["action"] == "deload"
    targets = fixed_targets(rows, program, as_of, assisted) if fixed else {}
    found = _true_numbers(flag, history, as_of, targets)
    if flag["kind"] == "progression" and program.scheme == "own":
        found += _small_steps(flag, history, program)
    return found
