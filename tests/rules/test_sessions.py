"""rules.sessions against DESIGN.md's definitions restated in plain Python, on a generated
history full of edge cases: loads at the edge of the top-set tolerance, sessions that start at
the same instant, sets either side of local midnight and of DST changes, unit majorities, machine
increments, warm-up-only and timed-only sessions, sessions after the as-of date, lighter sets
before or after the top sets, and an assisted exercise (its help read as a load below zero)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from rules.sessions import (
    ADVICE_WINDOW_DAYS,
    HISTORY_FIELDS,
    LOAD_TOLERANCE_KG,
    FirstInSession,
    summarise,
)
from tests.cases import LB, RULE_SETS_SCHEMA

AS_OF = date(2026, 4, 4)
# Each zone's local midnight falls at a different UTC hour; Santiago turns its clocks back at
# midnight on Apr 5 2026 and Berlin forward on Mar 29, Lord Howe by half an hour on Apr 5.
ZONES = ("Pacific/Honolulu", "Asia/Kathmandu", "America/Santiago", "Australia/Lord_Howe")
EXERCISES = ("back_extension", "back_extension_machine", "bench_press", "squat", "assisted_dip")
SET_TYPES = ("working", "working", "working", "failure", "warmup", "drop")
NO_FIRST = FirstInSession(exercises=[], assigned=[], default=False)


@dataclass(frozen=True)
class Set:
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
    assisted: bool
    source_line: int = 0


def _load(rng: random.Random, top: float) -> float:
    """The session's top load, or one just inside or outside the tolerance below it."""
    return top - rng.choice([0.0, 0.0, 0.0, 0.005, 0.01, 0.0100001, 0.02, 2.5, top])


def _session(
    rng: random.Random, athlete: str, exercise: str, session: str, start: datetime
) -> Iterator[Set]:
    top = rng.choice([0.0, 40.0, 61.23496995, 135 * LB, 100.0 - 1e-9])
    for order in range(rng.randint(1, 6)):
        yield Set(
            athlete,
            exercise,
            session,
            start + timedelta(minutes=rng.choice([0, order, 3 * order, 40 * order])),
            rng.choice(SET_TYPES),
            rng.choice([None, 0, 5, 8, 10, 10, 12, 15]),
            _load(rng, top),
            rng.choice(["kg", "kg", "lb"]),
            rng.choice([None, None, 7.0, 9.5, 10.0]),
            rng.choice([None, None, 2.5, 5.0]),
            exercise == "assisted_dip",
        )


def _start(rng: random.Random) -> datetime:
    """A UTC instant near some zone's local midnight, around the as-of date."""
    day = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 40))
    hours = rng.choice([0.0, 3.0, 4.0, 10.0, 13.25, 14.0, 18.25, 23.0])
    return day + timedelta(hours=hours, minutes=rng.randint(-2, 2), seconds=rng.choice([0, 59]))


def generated(seed: int, pairs: int = 300) -> list[Set]:
    rng = random.Random(seed)
    rows: list[Set] = []
    for pair in range(pairs):
        athlete, exercise = f"a{pair // len(EXERCISES)}", EXERCISES[pair % len(EXERCISES)]
        starts = [_start(rng) for _ in range(rng.randint(1, 8))]
        if len(starts) > 1 and rng.random() < 0.3:
            starts[-1] = starts[0]  # two sessions starting at the same instant
        for number, start in enumerate(starts):
            # Session ids are shared across an athlete's exercises, as in a workout.
            session = f"{athlete}-{rng.choice(['x', 'y'])}{number}"
            rows.extend(_session(rng, athlete, exercise, session, start))
    return [replace(row, source_line=line) for line, row in enumerate(rows)]


def athlete_zones(rows: list[Set]) -> dict[str, str]:
    """A zone of their own for every third athlete; the others use the default."""
    numbers = {int(s.athlete_id[1:]) for s in rows}
    return {f"a{n}": ZONES[n % len(ZONES)] for n in numbers if n % 3 == 0}


def frame(rows: list[Set]) -> pl.DataFrame:
    return pl.DataFrame(
        [vars(row) | {"file_id": "f"} for row in rows],
        schema=RULE_SETS_SCHEMA,
    )


def _working_sessions(rows: list[Set]) -> dict[tuple[str, str, str], list[Set]]:
    """Working and failure sets with reps, by athlete, exercise and session."""
    sessions: dict[tuple[str, str, str], list[Set]] = defaultdict(list)
    for s in rows:
        if s.set_type in ("working", "failure") and s.reps is not None:
            mirrored = replace(s, load_kg=-s.load_kg) if s.assisted else s
            sessions[(s.athlete_id, s.exercise_id, s.session_id)].append(mirrored)
    return sessions


def _achievement(sets: list[Set]) -> dict[str, object]:
    """S x R @ L: top sets within the tolerance of the heaviest working load (the least help)."""
    load = max(s.load_kg for s in sets)
    top = [s for s in sets if s.load_kg >= load - LOAD_TOLERANCE_KG]
    rpes = [s.rpe for s in top if s.rpe is not None]
    increments = [s.stack_increment_kg for s in top if s.stack_increment_kg is not None]
    return {
        "load": load,
        "sets": len(top),
        "reps": min(s.reps for s in top if s.reps is not None),
        "max_rpe": max(rpes, default=None),
        "load_unit": "lb" if 2 * sum(s.load_unit == "lb" for s in top) > len(top) else "kg",
        "stack_increment_kg": max(increments, default=None),
    }


@dataclass(frozen=True)
class Session:
    started_at: datetime
    session_id: str
    day: date
    sets: list[Set]


def _best(achieved: dict[str, object], assisted: bool) -> tuple[float, int] | None:
    """How a session ranks for a record: Epley from the achievement, only with load; on an
    assisted exercise the least help, then the most reps."""
    load, reps = float(achieved["load"]), int(achieved["reps"])
    if assisted:
        return load, reps
    return (load * (1 + reps / 30), 0) if load > 0 else None


def _lighter(sets: list[Set]) -> tuple[int, bool]:
    """The working sets below the top load, and whether one came before the top sets."""
    load = max(s.load_kg for s in sets)
    lighter = [s for s in sets if s.load_kg < load - LOAD_TOLERANCE_KG]
    top = [s for s in sets if s.load_kg >= load - LOAD_TOLERANCE_KG]

    def first(chosen: list[Set]) -> tuple[datetime, int]:
        return min((s.performed_at, s.source_line) for s in chosen)

    return len(lighter), bool(lighter) and first(lighter) < first(top)


def _pair(sessions: list[Session], depth: int) -> dict[str, object]:
    """What summarise returns for one athlete and exercise, from its sessions up to AS_OF."""
    newest_first = sorted(sessions, key=lambda s: (s.started_at, s.session_id), reverse=True)
    days = sorted(s.day for s in sessions)
    window_start = AS_OF - timedelta(days=ADVICE_WINDOW_DAYS - 1)
    assisted = newest_first[0].sets[0].assisted
    # The best before the last session, and the first session that reached it.
    earlier = [(_best(_achievement(s.sets), assisted), s) for s in reversed(newest_first[1:])]
    best = max((e for e, _ in earlier if e is not None), default=None)
    reached = next((s.day for e, s in earlier if best is not None and e == best), None)
    lighter, ramped = _lighter(newest_first[0].sets)
    row: dict[str, object] = {
        "count": len(sessions),
        "first_date": days[0],
        "recent_dates": [d for d in days if d >= window_start],
        "session_id": newest_first[0].session_id,
        "assisted": assisted,
        "loaded_before": any(
            float(_achievement(s.sets)["load"]) > LOAD_TOLERANCE_KG for s in sessions
        ),
        "best_before_kg": None if best is None else best[0],
        "best_before_reps": None if best is None else best[1],
        "best_before_date": reached,
        "lighter": lighter,
        "ramped": ramped,
    }
    for back in range(depth + 1):
        achieved: dict[str, object] = {}
        if back < len(newest_first):
            session = newest_first[back]
            achieved = _achievement(session.sets) | {"session_date": session.day}
        suffix = f"_{back}" if back else ""
        row |= {f"{name}{suffix}": achieved.get(name) for name in HISTORY_FIELDS}
    return row


def expected(
    rows: list[Set], depth: int, timezones: dict[str, str], default_timezone: str
) -> dict[tuple[str, str], dict[str, object]]:
    """One entry per athlete and exercise: DESIGN.md's sessions, computed one by one."""
    by_pair: dict[tuple[str, str], list[Session]] = defaultdict(list)
    for (athlete, exercise, session_id), sets in _working_sessions(rows).items():
        started = min(s.performed_at for s in sets)
        day = started.astimezone(ZoneInfo(timezones.get(athlete, default_timezone))).date()
        if day <= AS_OF:
            by_pair[(athlete, exercise)].append(Session(started, session_id, day, sets))
    return {pair: _pair(sessions, depth) for pair, sessions in by_pair.items()}


@pytest.mark.parametrize("default_timezone", ["UTC", "Europe/Berlin"])
@pytest.mark.parametrize(("seed", "depth"), [(1, 1), (2, 1), (3, 3)])
def test_summarise_follows_the_definitions(seed: int, depth: int, default_timezone: str) -> None:
    rows = generated(seed)
    timezones = athlete_zones(rows)
    con = duckdb.connect()
    try:
        con.register("rule_sets", frame(rows))
        found = summarise(con, "rule_sets", AS_OF, depth, timezones, default_timezone, NO_FIRST)
    finally:
        con.close()
    want = expected(rows, depth, timezones, default_timezone)
    got = {(r.pop("athlete_id"), r.pop("exercise_id")): r for r in found.to_dicts()}
    for row in got.values():
        del row["came_after_exercise"]  # do_first is tested in test_engine
    assert got.keys() == want.keys()
    for pair, row in want.items():
        assert got[pair] == row, pair


def test_the_generated_history_has_the_edge_cases() -> None:
    rows = generated(1)
    sessions = _working_sessions(rows)
    below_top = {
        round(max(s.load_kg for s in sets) - s.load_kg, 7)
        for sets in sessions.values()
        for s in sets
    }
    assert {0.005, 0.01, 0.0100001}.issubset(below_top)
    starts = [(key[:2], min(s.performed_at for s in sets)) for key, sets in sessions.items()]
    assert len(starts) > len(set(starts))  # sessions of one exercise that start together
    assert any(s.set_type == "warmup" for s in rows) and any(s.reps is None for s in rows)
    lighter = [_lighter(sets) for sets in sessions.values()]
    assert {(n > 0, ramped) for n, ramped in lighter} == {
        (False, False),
        (True, False),
        (True, True),
    }
    assert any(s.assisted for s in rows) and not all(s.assisted for s in rows)
    assert len({s.performed_at.date() for s in rows if s.performed_at.date() > AS_OF}) > 1
