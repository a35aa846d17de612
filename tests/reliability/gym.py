"""A seeded gym for the soak test (test_soak.py): athletes on four apps, each app exporting the
whole history every time in its real layout (as in tests/sources/test_*.py), and what the
nights bring besides: edits of past sets, exports with bad rows, broken files, OS junk, a copy
of an old export, and the nights that are killed.

The gym keeps what the warehouse must end up holding: the natural key of every exported set,
each edit's old and new values, and the bad rows of every distinct file.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from pathlib import Path

LB = 0.45359237
APPS = ("strong_csv", "hevy_csv", "fitnotes_csv", "canonical_csv")
HEADERS = {
    "strong_csv": "Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,"
    "Seconds,Notes,Workout Notes,RPE",
    "hevy_csv": "title,start_time,end_time,description,exercise_title,superset_id,"
    "exercise_notes,set_index,set_type,weight_kg,reps,distance_km,duration_seconds,rpe",
    "fitnotes_csv": "Date,Exercise,Category,Weight,Weight Unit,Reps,Distance,Distance Unit,Time",
    "canonical_csv": "performed_at,exercise,reps,load,unit,rpe,set_type",
}
# Exercise: its starting load in kg (0: bodyweight).
EXERCISES = {
    "Squat (Barbell)": 60.0,
    "Bench Press (Barbell)": 50.0,
    "Deadlift (Barbell)": 80.0,
    "Overhead Press (Barbell)": 30.0,
    "Lat Pulldown (Cable)": 40.0,
    "Back Extension": 0.0,
}
# Values the contract rejects in every one of the four layouts: (load, reps).
BAD_VALUES = (("20", "x"), ("20", "2000"), ("-20", "8"), ("heavy", "8"), ("20", "-3"))
BAD_EXERCISE = "Cable Fly"  # no athlete trains it: a bad row never renumbers a stored set
# A killed night stores batches of this many files: a kill falls before or after a batch's
# transaction, with a file of it stored or not.
STORE_BATCH = 2
# The kill points: (step, after the call rather than before it).
KILLS = (("store", False), ("store", True), ("flag", False), ("flag", True), ("publish", False))

Key = tuple[str, str, datetime, str, int]  # source_format, athlete, performed_at, key, set_index
Values = tuple[int, float]  # reps, load_kg


@dataclass
class Lift:
    """One set as the app holds it: in the athlete's unit, numbered within its exercise."""

    start: datetime  # the workout's start; naive, read as UTC (the default timezone)
    at: datetime  # when the set was logged (canonical CSV stamps each set)
    exercise: str
    number: int
    warmup: bool
    reps: int
    load: float
    rpe: float | None


@dataclass(frozen=True)
class Kill:
    step: str  # store, flag or publish
    at: int  # the call of that step that dies (the k-th batch stored)
    after: bool  # after the call returns, rather than before it starts

    def __str__(self) -> str:
        return f"{'after' if self.after else 'before'} {self.step} #{self.at}"


@dataclass(frozen=True)
class Carried:
    """An export a sync client changed while a run read it: the next night stores it."""

    identity: tuple[str, str]  # athlete, sha256
    bad_rows: int
    edits: int


@dataclass
class Night:
    day: date
    new_files: int = 0  # files the run stores (calls of the store step), broken ones included
    broken: int = 0
    edits: int = 0
    bad_rows: int = 0  # in files never stored before
    junk: list[str] = field(default_factory=list)  # inbox paths the run ignores
    kill: Kill | None = None
    prefect: bool = False
    # Exports a sync client changes while the run reads them ("replace" or "truncate"), then
    # writes back whole: left for the next run, which stores them.
    syncing: list[tuple[Path, str]] = field(default_factory=list)
    damaged: bool = False  # the working database is damaged before the run

    @property
    def status(self) -> str:
        return "completed_with_failures" if self.broken else "succeeded"


@dataclass
class Athlete:
    athlete_id: str
    app: str
    unit: str
    weekdays: frozenset[int]
    start: time
    loads: dict[str, float]  # exercise: working load, in the athlete's unit
    targets: dict[str, int]  # exercise: reps aimed at
    history: list[Lift] = field(default_factory=list)
    exported: int = 0  # history[:exported] is in some export, so stored after its night
    edited: set[int] = field(default_factory=set)
    contents: list[tuple[str, bytes]] = field(default_factory=list)  # dropped exports
    kept: list[Path] = field(default_factory=list)  # exports still in the inbox
    last_export: bytes = b""

    @property
    def step(self) -> float:
        return 5.0 if self.unit == "lb" else 2.5

    def kg(self, load: float) -> float:
        return load * LB if self.unit == "lb" else load

    def key(self, lift: Lift) -> Key:
        when = {
            "fitnotes_csv": datetime.combine(lift.start.date(), time()),
            "canonical_csv": lift.at,
        }
        performed = when.get(self.app, lift.start).replace(tzinfo=UTC)
        return (self.app, self.athlete_id, performed, lift.exercise.lower(), lift.number)

    def values(self, lift: Lift) -> Values:
        return lift.reps, round(self.kg(lift.load), 6)

    def render(self, lifts: list[Lift], bad: list[tuple[int, str, str]] | None = None) -> bytes:
        """The app's export of `lifts`; `bad` inserts rows (position, load, reps) it rejects."""
        workouts: dict[datetime, list[str]] = {}
        for lift in lifts:
            workouts.setdefault(lift.start, []).append(self.row(lift))
        order = reversed(workouts) if self.app == "hevy_csv" else iter(workouts)
        rows = [row for start in order for row in workouts[start]]  # Hevy: newest first
        last = lifts[-1]
        for number, (position, load, reps) in enumerate(bad or [], start=1):
            glitch = Lift(last.start, last.at, BAD_EXERCISE, number, False, 0, 0, None)
            rows.insert(min(position, len(rows)), self.row(glitch, load, reps))
        return ("\n".join([HEADERS[self.app], *rows]) + "\n").encode()

    def row(self, lift: Lift, load: str | None = None, reps: str | None = None) -> str:
        load = f"{lift.load:g}" if load is None else load
        rpe = "" if lift.rpe is None else f"{lift.rpe:g}"
        if self.app == "strong_csv":
            reps = f"{lift.reps}.0" if reps is None else reps
            return (
                f"{lift.start:%Y-%m-%d %H:%M:%S},Workout,1h,{lift.exercise},{lift.number},"
                f"{load},{reps},0,0.0,,,{rpe}"
            )
        reps = str(lift.reps) if reps is None else reps
        if self.app == "hevy_csv":
            end = lift.start + timedelta(hours=1)
            kind = "warmup" if lift.warmup else "normal"
            return (
                f'"Workout","{lift.start:%d %b %Y, %H:%M}","{end:%d %b %Y, %H:%M}","",'
                f'"{lift.exercise}",,"",{lift.number - 1},"{kind}",{load},{reps},,,{rpe}'
            )
        if self.app == "fitnotes_csv":
            unit = "lbs" if self.unit == "lb" else "kgs"
            return f"{lift.start:%Y-%m-%d},{lift.exercise},Strength,{load},{unit},{reps},,,"
        kind = "warmup" if lift.warmup else "working"
        return f"{lift.at:%Y-%m-%dT%H:%M:%S},{lift.exercise},{reps},{load},{self.unit},{rpe},{kind}"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Gym:
    """`athletes` athletes with up to 90 days of history before `start`; `night()` plays the
    next day into an inbox. Everything comes from `seed`."""

    def __init__(self, seed: int, athletes: int, nights: int, start: date) -> None:
        self.rng = random.Random(seed)
        self.day = start - timedelta(days=1)
        self.athletes = [self._athlete(i) for i in range(athletes)]
        for athlete in self.athletes:
            for back in range(self.rng.randint(0, 90), 0, -1):
                self._train(athlete, start - timedelta(days=back))
        # Kills and Prefect nights from a stream of their own: about one night in twenty is
        # killed (at least four, so that a short soak still kills at several points).
        plan = random.Random(seed * 7919 + 1)
        killed = plan.sample(range(nights), min(nights, max(4, nights // 20)))
        points = list(KILLS)
        plan.shuffle(points)  # in turn, so that four kills die at four different points
        self.kills: dict[int, Kill] = {}
        for i, night in enumerate(killed):
            step, after = points[i % len(points)]
            self.kills[night] = Kill(step, 0, after)
        self.plan = plan
        rest = [night for night in range(1, nights) if night not in self.kills]
        self.prefect = set(plan.sample(rest, min(2, len(rest))))
        # Syncs and the damaged database come from a stream of their own, on nights that are
        # neither killed nor run by Prefect (and so the streams above stay as they were).
        self.chaos = random.Random(seed * 7919 + 2)
        quiet = [night for night in rest if night not in self.prefect]
        self.syncs = set(self.chaos.sample(quiet, min(len(quiet), max(2, nights // 8))))
        later = [night for night in quiet if night not in self.syncs and night >= 2]
        self.damaged = self.chaos.choice(later) if later else None
        self.carried: Carried | None = None  # an export left for the next night
        self.edited: set[str] = set()  # sha256 of the exports that carry an edit
        self.night_number = -1
        self.loaded: set[tuple[str, str]] = set()  # (athlete, sha256) stored
        self.edits: dict[Key, tuple[Values, Values]] = {}
        self.bad_rows: dict[str, int] = {}  # sha256 of a distinct file: rows it rejects
        self.counts: Counter[str] = Counter()
        self.transient: list[Path] = []  # removed the next night
        self.junk: set[str] = set()  # junk that stays in the inbox: .DS_Store, .stversions/

    def _athlete(self, i: int) -> Athlete:
        rng = self.rng
        app = APPS[i % len(APPS)]
        unit = "lb" if app in ("fitnotes_csv", "canonical_csv") and rng.random() < 0.4 else "kg"
        exercises = rng.sample(sorted(EXERCISES), rng.randint(2, 4))
        step = 5.0 if unit == "lb" else 2.5
        loads = {
            name: round(EXERCISES[name] / (LB if unit == "lb" else 1) / step) * step
            for name in exercises
        }
        return Athlete(
            athlete_id=f"{i:02d}-{app.removesuffix('_csv')}",
            app=app,
            unit=unit,
            weekdays=frozenset(rng.sample(range(7), rng.randint(2, 4))),
            start=time(rng.choice([6, 7, 12, 17, 18, 19]), rng.randrange(60)),
            loads=loads,
            targets=dict.fromkeys(exercises, 8),
        )

    def _train(self, athlete: Athlete, day: date) -> None:
        """A workout that day, if it is one of the athlete's days (and they turn up)."""
        rng = self.rng
        if day.weekday() not in athlete.weekdays or rng.random() < 0.15:
            return
        start = datetime.combine(day, athlete.start)
        order = list(athlete.loads)
        if rng.random() < 0.1:
            rng.shuffle(order)
        logged = 0
        for exercise in order:
            load, target = athlete.loads[exercise], athlete.targets[exercise]
            sets: list[tuple[bool, int, float]] = []
            if athlete.app in ("hevy_csv", "canonical_csv") and load > 0 and rng.random() < 0.4:
                sets.append((True, 10, round(load / 2 / athlete.step) * athlete.step))
            for _ in range(rng.choice((3, 3, 4))):
                sets.append((False, max(1, target - rng.choice((0, 0, 0, 1, 2))), load))
            for number, (warmup, reps, weight) in enumerate(sets, start=1):
                rpe = rng.choice((None, None, 7.0, 8.0, 8.5, 9.0))
                at = start + timedelta(minutes=2 * logged)
                logged += 1
                athlete.history.append(
                    Lift(
                        start,
                        at,
                        exercise,
                        number,
                        warmup,
                        reps,
                        weight,
                        None if athlete.app == "fitnotes_csv" else rpe,
                    )
                )
            if all(reps >= target for warmup, reps, _ in sets if not warmup):
                athlete.targets[exercise] += 1
                if athlete.targets[exercise] > 12:
                    athlete.targets[exercise] = 8
                    athlete.loads[exercise] += athlete.step

    def night(self, inbox: Path) -> Night:
        """The next day: workouts, then what lands in the inbox before the nightly run."""
        self.day += timedelta(days=1)
        self.night_number += 1
        night = Night(self.day, prefect=self.night_number in self.prefect)
        for path in self.transient:
            path.unlink()
        self.transient = []
        stored_now: set[tuple[str, str]] = set()
        junk_now: set[str] = set()
        waiting = None  # the athlete whose synced export from last night is stored tonight
        if self.carried is not None:
            carried, self.carried = self.carried, None
            night.new_files += 1
            night.bad_rows += carried.bad_rows
            night.edits += carried.edits
            stored_now.add(carried.identity)
            waiting = carried.identity[0]
        fresh: list[tuple[Path, tuple[str, str]]] = []  # exports new tonight
        for athlete in self.athletes:
            self._train(athlete, self.day)
            for role, name, content in self._drops(athlete, night):
                path = inbox / athlete.athlete_id / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                if role != "kept":  # a .DS_Store or a .stversions copy stays for good
                    self.transient.append(path)
                if role in ("kept", "junk"):  # a junk folder is ignored as a whole
                    ignored = f"{athlete.athlete_id}/{Path(name).parts[0]}"
                    (self.junk if role == "kept" else junk_now).add(ignored)
                if role == "broken":  # fails in every run it is in, never stored
                    night.new_files += 1
                    night.broken += 1
                if role == "export":
                    self.transient.pop()
                    athlete.kept.append(path)
                    if len(athlete.kept) > 2:  # the inbox keeps the last two exports
                        athlete.kept.pop(0).unlink()
                if role in ("export", "copy"):
                    identity = (athlete.athlete_id, sha256(content))
                    if identity not in self.loaded and identity not in stored_now:
                        night.new_files += 1
                        night.bad_rows += self.bad_rows.get(identity[1], 0)
                        stored_now.add(identity)
                        if role == "export" and athlete.athlete_id != waiting:
                            fresh.append((path, identity))
        if self.night_number in self.syncs and fresh:
            self._sync(night, fresh, stored_now)
        night.damaged = self.night_number == self.damaged
        if night.damaged:
            self.counts["damaged databases"] += 1
        self.loaded |= stored_now
        night.junk = sorted(self.junk | junk_now)
        kill = self.kills.get(self.night_number)
        if kill is not None and kill.step == "store" and night.new_files == 0:
            later = next(n for n in count(self.night_number + 1) if n not in self.kills)
            self.kills[later] = kill  # no file to die at: the next free night dies there
            kill = None
        if kill is not None:
            batches = -(-night.new_files // STORE_BATCH)  # calls of the store step at least
            at = self.plan.randint(1, batches) if kill.step == "store" else 1
            night.kill = Kill(kill.step, at, kill.after)
            self.counts[f"killed {'after' if kill.after else 'before'} {kill.step}"] += 1
        return night

    def _sync(
        self,
        night: Night,
        fresh: list[tuple[Path, tuple[str, str]]],
        stored_now: set[tuple[str, str]],
    ) -> None:
        """One export new tonight is changed by its sync client while the run reads it: it is
        stored the next night instead, with its bad rows and its edit."""
        path, identity = self.chaos.choice(fresh)
        night.syncing.append((path, self.chaos.choice(("replace", "truncate"))))
        carried = Carried(identity, self.bad_rows.get(identity[1], 0), identity[1] in self.edited)
        night.new_files -= 1
        night.bad_rows -= carried.bad_rows
        night.edits -= carried.edits
        stored_now.discard(identity)
        self.carried = carried
        self.counts["files changed while read"] += 1

    def _drops(self, athlete: Athlete, night: Night) -> list[tuple[str, str, bytes]]:
        """What this athlete's app or phone puts in the inbox tonight, as (role, name,
        content): an export, a copy of an old one, a broken file, junk, or nothing."""
        rng = self.rng
        roll = rng.random()
        stamp = f"{self.day:%Y-%m-%d}"
        if roll < 0.22:
            return [("export", *self._export(athlete, night, stamp))] if athlete.history else []
        if roll < 0.235 and athlete.contents:
            name, content = rng.choice(athlete.contents)
            self.counts["copies of an old export"] += 1
            return [("copy", f"{name.removesuffix('.csv')} (conflicted copy {stamp}).csv", content)]
        if roll < 0.24:
            self.counts["broken files"] += 1
            if rng.random() < 0.5:
                return [("broken", f"notes-{stamp}.txt", f"deload next week ({stamp})\n".encode())]
            return [("broken", f"export-{stamp}.zip", b"PK\x03\x04" + stamp.encode() + bytes(40))]
        if roll < 0.255:
            self.counts["junk files"] += 1
            kind = rng.randrange(3)
            if kind == 0:
                return [("kept", ".DS_Store", b"\x00\x00\x00\x01Bud1" + stamp.encode())]
            if kind == 1 and athlete.contents:  # a download still under way: half an export
                name, content = athlete.contents[-1]
                return [("junk", f"{name}.part", content[: len(content) // 2])]
            return [("kept", f".stversions/{stamp}.csv", athlete.last_export or b"old\n")]
        return []

    def _export(self, athlete: Athlete, night: Night, stamp: str) -> tuple[str, bytes]:
        rng = self.rng
        edited = bool(athlete.exported) and rng.random() < 0.2 and self._edit(athlete)
        night.edits += edited
        bad: list[tuple[int, str, str]] = []
        if rng.random() < 0.08:
            count = rng.randint(1, 3)
            bad = [
                (rng.randrange(len(athlete.history) + 1), *rng.choice(BAD_VALUES))
                for _ in range(count)
            ]
        content = athlete.render(athlete.history, bad)
        if edited:
            self.edited.add(sha256(content))
        if bad:
            self.bad_rows[sha256(content)] = len(bad)
            self.counts["exports with bad rows"] += 1
        number = len(athlete.contents) + 1
        name = {
            "strong_csv": f"strong-{stamp}-{number}.csv",
            "hevy_csv": f"workout_data ({number}).csv",
            "fitnotes_csv": f"FitNotes_Export_{self.day:%Y_%m_%d}_{number}.csv",
            "canonical_csv": f"log-{stamp}-{number}.csv",
        }[athlete.app]
        athlete.contents.append((name, content))
        athlete.exported = len(athlete.history)
        athlete.last_export = content
        self.counts["exports"] += 1
        return name, content

    def _edit(self, athlete: Athlete) -> bool:
        """Change the reps or the load of one exported set, never edited before."""
        rng = self.rng
        choices = [i for i in range(athlete.exported) if i not in athlete.edited]
        if not choices:
            return False
        index = rng.choice(choices)
        athlete.edited.add(index)
        lift = athlete.history[index]
        old = athlete.values(lift)
        if lift.load == 0 or rng.random() < 0.6:
            lift.reps = lift.reps + 1 if lift.reps == 1 else lift.reps + rng.choice((-1, 1))
        else:
            lift.load = lift.load + rng.choice((-1, 1)) * athlete.step
        self.edits[athlete.key(lift)] = (old, athlete.values(lift))
        self.counts["edits"] += 1
        return True

    def keys(self) -> set[Key]:
        """The natural key of every set in some export."""
        return {a.key(lift) for a in self.athletes for lift in a.history[: a.exported]}
