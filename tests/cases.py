"""Shared test cases: set histories for the rules engine, built as the warehouse returns them."""

from __future__ import annotations

import io
import tomllib
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from config import DEFAULT_DIR
from rules import SET_COLUMNS
from schemas.config_files import ProgramsFile

LB = 0.45359237


# The columns the rules read (warehouse.flags.rule_sets), as frames of test sets carry them.
RULE_SETS_SCHEMA = {
    "athlete_id": pl.String,
    "exercise_id": pl.String,
    "session_id": pl.String,
    "performed_at": pl.Datetime("us", "UTC"),
    "set_type": pl.String,
    "reps": pl.Int64,
    "load_kg": pl.Float64,
    "load_unit": pl.String,
    "rpe": pl.Float64,
    "stack_increment_kg": pl.Float64,
    "file_id": pl.String,
    "source_line": pl.Int64,
    "assisted": pl.Boolean,
}


def shipped_programs() -> ProgramsFile:
    with (DEFAULT_DIR / "programs.toml").open("rb") as handle:
        return ProgramsFile.model_validate(tomllib.load(handle))


def assigned(programs: ProgramsFile, program_id: str, *exercises: str) -> ProgramsFile:
    """`programs` with `exercises` assigned to `program_id`."""
    data = programs.model_dump()
    data["assign"] |= dict.fromkeys(exercises, program_id)
    return ProgramsFile.model_validate(data)


# The old default program (3-4 x 8-12), which the tests of the fixed table assign to the bench
# press and the squat; every other exercise follows the lifter's own scheme.
FIXED_LIFTS = ("bench_press", "squat")


@dataclass(frozen=True)
class S:
    """One set: reps at a load (kg), with optional RPE and type."""

    reps: int | None
    load_kg: float = 0.0
    rpe: float | None = None
    set_type: str = "working"


def sets_of(count: int, reps: int, load_kg: float = 0.0) -> list[S]:
    return [S(reps, load_kg) for _ in range(count)]


def history(
    sessions: list[list[S]],
    exercise: str = "back_extension",
    athlete: str = "a1",
    start: date = date(2026, 9, 1),
    every_days: int = 3,
    unit: str = "kg",
    stack_increment_kg: float | None = None,
    assisted: bool = False,
) -> pl.DataFrame:
    """A frame of SET_COLUMNS: one session every `every_days` days at 07:00 UTC."""
    rows = []
    for number, sets in enumerate(sessions):
        day = start + timedelta(days=every_days * number)
        for order, item in enumerate(sets, start=1):
            rows.append(
                {
                    "athlete_id": athlete,
                    "exercise_id": exercise,
                    "session_id": f"{athlete}-{day}",
                    "performed_at": datetime(day.year, day.month, day.day, 7, tzinfo=UTC)
                    + timedelta(minutes=order),
                    "set_type": item.set_type,
                    "reps": item.reps,
                    "load_kg": item.load_kg,
                    "load_unit": unit,
                    "rpe": item.rpe,
                    "stack_increment_kg": stack_increment_kg,
                    "file_id": "f1",
                    "source_line": order,
                    "assisted": assisted,
                }
            )
    return pl.DataFrame(
        rows,
        schema=RULE_SETS_SCHEMA,
    ).select(SET_COLUMNS)


def last_day(sessions: int, start: date = date(2026, 9, 1), every_days: int = 3) -> date:
    return start + timedelta(days=every_days * (sessions - 1))


def zipped(entries: dict[str, bytes]) -> bytes:
    """A zip archive of `entries` (member name -> bytes), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def stored_sets_if_whole(database: Path) -> int:
    """The sets stored in a warehouse, after checking it is a whole state: every stored set
    belongs to a file recorded as loaded, and every loaded file's sets are there."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FROM sets").fetchone()
        recorded = con.execute(
            "SELECT coalesce(sum(rows_loaded), 0) FROM ingested_files WHERE status = 'loaded'"
        ).fetchone()
    finally:
        con.close()
    assert stored is not None and stored == recorded, (stored, recorded)
    return int(stored[0])


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    session: int
    command: str


def live_processes() -> list[Process]:
    """Every running process on the machine (zombies aside), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue  # not a process, or one that just ended
        if fields[0] != "Z":
            found.append(Process(int(entry.name), int(fields[1]), int(fields[3]), command))
    return found
