"""A generated inbox of many small exports in four formats, for the Dask test and `make bench`.

Files cycle through canonical CSV, Strong, Hevy and gym-machine JSON Lines. Exports of the same
athlete and format overlap (each repeats the last sessions of the one before), some edit an
earlier set, every fifth file has a bad row, one content is copied under a second name, and
every fiftieth file is unreadable: the cases where file order decides what the warehouse holds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The bench file's columns and their DuckDB types, as the DuckDB baselines read them.
COLUMNS = {
    "athlete_id": "VARCHAR",
    "performed_at": "TIMESTAMPTZ",
    "exercise": "VARCHAR",
    "reps": "INTEGER",
    "load": "DOUBLE",
    "unit": "VARCHAR",
    "rpe": "DOUBLE",
    "set_type": "VARCHAR",
}

FORMATS = ("canonical", "strong", "hevy", "machine")
ATHLETES = 12
EXERCISES = ("Back Extension", "Squat", "Bench Press")
START = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def build(inbox: Path, files: int, sessions: int = 4, sets: int = 3) -> int:
    """Write `files` exports under `inbox/<athlete>/`; returns how many files were written."""
    for n in range(files):
        athlete = f"m{n % ATHLETES:02d}"
        fmt = FORMATS[n // ATHLETES % len(FORMATS)]
        folder = inbox / athlete
        folder.mkdir(parents=True, exist_ok=True)
        if n % 50 == 49:
            (folder / f"export-{n:04d}.bin").write_bytes(b"\x00\x01not an export" * 32)
            continue
        # Each export of an athlete starts two sessions after the previous one: they overlap.
        first = n // (ATHLETES * len(FORMATS)) * 2
        days = [START + timedelta(days=3 * (first + s)) for s in range(sessions)]
        text = WRITERS[fmt](athlete, days, sets, edited=n % 7 == 3, bad=n % 5 == 0)
        (folder / f"export-{n:04d}.{'jsonl' if fmt == 'machine' else 'csv'}").write_text(text)
    copy = inbox / "m00" / "export-0000.csv"
    if copy.exists():
        (inbox / "m00" / "copy-of-export-0000.csv").write_bytes(copy.read_bytes())
    return files + copy.exists()


def _sets(days: list[datetime], sets: int) -> list[tuple[datetime, str, int, int, float]]:
    """(time, exercise, set number, reps, load in kg) for every set of every session."""
    rows = []
    for day in days:
        week = (day - START).days // 7
        for e, exercise in enumerate(EXERCISES):
            for s in range(1, sets + 1):
                at = day + timedelta(minutes=10 * e + 3 * s)
                load = 0.0 if e == 0 else 40.0 + 2.5 * week + 20 * e
                rows.append((at, exercise, s, 8 + (week + s) % 5, load))
    return rows


def canonical(athlete: str, days: list[datetime], sets: int, edited: bool, bad: bool) -> str:
    lines = ["performed_at,exercise,reps,load,unit,rpe,set_type"]
    for i, (at, exercise, _, reps, load) in enumerate(_sets(days, sets)):
        reps += i == 0 and edited  # a changed value for a set an earlier export stored
        lines.append(f"{at:%Y-%m-%dT%H:%M:%SZ},{exercise},{reps},{load},kg,,working")
    if bad:
        lines.append(f"{days[-1]:%Y-%m-%dT%H:%M:%SZ},Squat,ten,80,kg,,working")
    return "\n".join(lines) + "\n"


def strong(athlete: str, days: list[datetime], sets: int, edited: bool, bad: bool) -> str:
    lines = ["Date,Workout Name,Duration,Exercise Name,Set Order,Weight,Reps,Distance,Seconds,"]
    lines[0] += "Notes,Workout Notes,RPE"
    for i, (at, exercise, s, reps, load) in enumerate(_sets(days, sets)):
        reps += i == 0 and edited
        start = at.replace(hour=7, minute=0)
        lines.append(f'{start:%Y-%m-%d %H:%M:%S},"Day",60m,"{exercise}",{s},{load},{reps},0,0,,,')
    if bad:
        lines.append(f'{days[-1]:%Y-%m-%d %H:%M:%S},"Day",60m,"Squat",9,80,-3,0,0,,,')
    return "\n".join(lines) + "\n"


def hevy(athlete: str, days: list[datetime], sets: int, edited: bool, bad: bool) -> str:
    header = (
        '"title","start_time","end_time","description","exercise_title","superset_id",'
        '"exercise_notes","set_index","set_type","weight_kg","reps","distance_km",'
        '"duration_seconds","rpe"'
    )
    lines = [header]
    for i, (at, exercise, s, reps, load) in enumerate(_sets(days, sets)):
        reps += i == 0 and edited
        start, end = at.replace(hour=7, minute=0), at.replace(hour=8, minute=0)
        lines.append(
            f'"Day","{start:%d %b %Y, %H:%M}","{end:%d %b %Y, %H:%M}","","{exercise}",,"",'
            f'{s - 1},"normal",{load},{reps},,,'
        )
    if bad:
        start = days[-1].replace(hour=7, minute=0)
        lines.append(
            f'"Day","{start:%d %b %Y, %H:%M}","{start:%d %b %Y, %H:%M}","","Squat",,"",'
            '9,"normal",80,2000,,,'
        )
    return "\n".join(lines) + "\n"


def machine(athlete: str, days: list[datetime], sets: int, edited: bool, bad: bool) -> str:
    documents = []
    for d, day in enumerate(days):
        reps = [10 + (day - START).days // 7 % 5] * sets
        reps[0] += d == 0 and edited
        logged: list[dict[str, object]] = [{"reps": r, "weight_kg": 35} for r in reps]
        if bad and d == len(days) - 1:
            logged.append({"reps": 12, "weight_kg": -35})
        documents.append(
            {
                "format": "repflow.machine/1",
                "machine": {
                    "id": "BX-0042",
                    "model": "Lower Back Extension",
                    "exercise": "Back Extension (Machine)",
                    "stack_increment_kg": 5,
                },
                "sessions": [{"member_id": athlete, "started_at": day.isoformat(), "sets": logged}],
            }
        )
    return "".join(json.dumps(document) + "\n" for document in documents)


WRITERS = {"canonical": canonical, "strong": strong, "hevy": hevy, "machine": machine}
