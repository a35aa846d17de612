"""The real-file gym: every real export in ../shared/data/real, one athlete each, loaded over two
nights. The catalog maps its sets to exercises with muscles, and a coach's week works on it:
weekly sets by muscle, what changed since last night, adherence, and the flags in each
athlete's unit as a CSV file Excel opens (issue 25)."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from flows import discovery, pipeline, runs
from flows.config import load
from tests.conftest import REAL_DATA, Workspace, needs_real_data, repflow

pytestmark = [needs_real_data, pytest.mark.slow]

# The first night has this export up to CUTOFF; the second night's whole-history re-export
# brings its last sessions. The nights are as of the day after those sessions.
REEXPORTED = "fitnotes/fitnotes_lbs.csv"
CUTOFF = "2025-11-01"
NIGHTS = (date(2025, 11, 1), date(2025, 11, 13))
LB = 0.45359237
WORKING = "set_type IN ('working', 'failure')"
# The most common names of the real exports, with the exercise and the primary muscle a coach
# would give them: the 30 most common names of the exports that load must all be here.
SPOT_CHECKS = {
    "barbell squat": ("squat", "quadriceps"),
    "barbell bench press": ("bench_press", "chest"),
    "barbell deadlift": ("deadlift", "lower back"),
    "bench press (barbell)": ("bench_press", "chest"),
    "squat (barbell)": ("squat", "quadriceps"),
    "barbell military press": ("overhead_press", "shoulders"),
    "leg extension (machine)": ("leg_extensions", "quadriceps"),
    "push up": ("pushups", "chest"),
    "squat": ("squat", "quadriceps"),
    "lat pulldown (cable)": ("wide_grip_lat_pulldown", "lats"),
    "incline bench press (dumbbell)": ("incline_dumbbell_press", "chest"),
    "deadlift (barbell)": ("deadlift", "lower back"),
    "pull up": ("pull_up", "lats"),
    "lat pulldown": ("wide_grip_lat_pulldown", "lats"),
    "triceps pushdown": ("triceps_pushdown", "triceps"),
    "lateral raise (dumbbell)": ("side_lateral_raise", "shoulders"),
    "seated leg curl (machine)": ("seated_leg_curl", "hamstrings"),
    "bicep curl (cable)": ("standing_biceps_cable_curl", "biceps"),
    "barbell standing military press": ("overhead_press", "shoulders"),
    "crunches": ("crunches", "abdominals"),
    "warm up": ("warm_up", None),  # known, and no muscle's
    "bench press": ("bench_press", "chest"),
    "barbell bent over row": ("bent_over_row", "middle back"),
    "flat dumbbell bench press": ("dumbbell_bench_press", "chest"),
    "bulgarian split squat": ("split_squat_with_dumbbells", "quadriceps"),
    "deadlift": ("deadlift", "lower back"),
    "cable crunch": ("cable_crunch", "abdominals"),
    "pull-up": ("pull_up", "lats"),
    "barbell romanian deadlift": ("romanian_deadlift", "hamstrings"),
    "dumbbell row": ("one_arm_dumbbell_row", "middle back"),
    "incline bench press (barbell)": ("barbell_incline_bench_press_medium_grip", "chest"),
    "barbell zercher squat": ("zercher_squats", "quadriceps"),
    "triceps extension": ("standing_dumbbell_triceps_extension", "triceps"),
    "seated incline curl (dumbbell)": ("incline_dumbbell_curl", "biceps"),
    "lateral raise (cable)": ("standing_low_pulley_deltoid_raise", "shoulders"),
    "leg press": ("leg_press", "quadriceps"),
    "leg press (machine)": ("leg_press", "quadriceps"),
    "triceps extension (cable)": ("cable_rope_overhead_triceps_extension", "triceps"),
    "bicep curl (dumbbell)": ("dumbbell_bicep_curl", "biceps"),
    "jumping jacks": ("jumping_jacks", "quadriceps"),
    "preacher curl (barbell)": ("preacher_curl", "biceps"),
    "shoulder press": ("overhead_press", "shoulders"),
    "calf press (machine)": ("calf_press", "calves"),
    "cable overhead triceps extension": ("cable_rope_overhead_triceps_extension", "triceps"),
    "bench press (dumbbell)": ("dumbbell_bench_press", "chest"),
    "barbell curl": ("barbell_curl", "biceps"),
    "dumbbell shoulder press": ("dumbbell_shoulder_press", "shoulders"),
    "seated machine fly": ("butterfly", "chest"),
    "hip abduction (machine)": ("thigh_abductor", "abductors"),
    "hip adduction (machine)": ("thigh_adductor", "adductors"),
    # GymBook (Italian), StrongLifts, Fitbod 2019 and Hevy with US dates, once they load
    "distensioni su panca piana con bilanciere": ("bench_press", "chest"),
    "tricipiti al cavo": ("triceps_pushdown", "triceps"),
    "lat pull-downs al cavo alto a presa larga": ("wide_grip_lat_pulldown", "lats"),
    "sit-ups": ("sit_up", "abdominals"),
    "curls al cavo basso": ("standing_biceps_cable_curl", "biceps"),
    "alzate di gambe": ("flat_bench_lying_leg_raise", "abdominals"),
    "overhead press": ("overhead_press", "shoulders"),
    "barbell row": ("bent_over_row", "middle back"),
    "chest fly (machine)": ("butterfly", "chest"),
    "ez bar biceps curl": ("ez_bar_curl", "biceps"),
    "triceps pushdown (cable - straight bar)": ("triceps_pushdown", "triceps"),
}


@dataclass(frozen=True)
class Gym:
    workspace: Workspace
    nights: tuple[runs.RunSummary, runs.RunSummary]
    reexported: str  # the athlete whose export came again, with new sessions


def _exports() -> list[Path]:
    return sorted(p for p in REAL_DATA.rglob("*") if p.is_file() and p.name != "README.md")


def _night(workspace: Workspace, as_of: date) -> runs.RunSummary:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", as_of, skipped=skipped)


@pytest.fixture(scope="module")
def gym(tmp_path_factory: pytest.TempPathFactory) -> Gym:
    workspace = Workspace(tmp_path_factory.mktemp("gym"))
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("REPFLOW_"):
                patch.delenv(name)
        for path in _exports():
            target = workspace.inbox / path.stem / path.name
            target.parent.mkdir(parents=True)
            shutil.copy(path, target)
        whole = (REAL_DATA / REEXPORTED).read_text(encoding="utf-8")
        target = workspace.inbox / Path(REEXPORTED).stem / Path(REEXPORTED).name
        header, *lines = whole.splitlines(keepends=True)
        early = "".join(line for line in lines if line[:10] < CUTOFF)
        target.write_text(header + early, encoding="utf-8")
        first = _night(workspace, NIGHTS[0])
        target.write_text(whole, encoding="utf-8")
        second = _night(workspace, NIGHTS[1])
    return Gym(workspace, (first, second), Path(REEXPORTED).stem)


def test_the_catalog_maps_95_percent_of_working_sets_to_exercises_with_muscles(gym: Gym) -> None:
    by_format = gym.workspace.query(
        f"""
        SELECT s.source_format, count(*) AS sets,
               count(*) FILTER (WHERE len(e.primary_muscles) > 0) AS mapped
        FROM sets s LEFT JOIN exercises e USING (exercise_id)
        WHERE s.{WORKING} GROUP BY ALL ORDER BY 1
        """
    )
    sets = sum(row[1] for row in by_format)
    mapped = sum(row[2] for row in by_format)
    loaded = {row[0] for row in gym.workspace.query("SELECT DISTINCT athlete_id FROM sets")}
    assert len(loaded) >= 15 and sets > 30_000
    assert mapped / sets >= 0.95, by_format


def test_the_30_most_common_names_map_to_the_right_exercises(gym: Gym) -> None:
    common = gym.workspace.query(
        f"""
        SELECT s.exercise_key, any_value(s.exercise_id), any_value(e.primary_muscles)
        FROM sets s LEFT JOIN exercises e USING (exercise_id)
        WHERE s.{WORKING} GROUP BY s.exercise_key ORDER BY count(*) DESC, 1 LIMIT 30
        """
    )
    assert len(common) == 30
    for key, exercise_id, muscles in common:
        assert key in SPOT_CHECKS, f"{key!r} is among the 30 most common names: spot-check it"
        expected_id, muscle = SPOT_CHECKS[key]
        assert exercise_id == expected_id, key
        assert (muscles[0] if muscles else None) == muscle, key


def test_a_coachs_week(gym: Gym) -> None:
    athlete = gym.reexported
    _weekly_sets_by_muscle(gym.workspace, athlete)
    _what_changed_last_night(gym, athlete)
    _adherence(gym.workspace)
    _flags_in_the_athletes_unit_for_excel(gym.workspace)


def _weekly_sets_by_muscle(workspace: Workspace, athlete: str) -> None:
    """The last week, counted from the sets and the catalog's muscles in Python."""
    muscles = {
        e.exercise_id: (e.primary_muscles, e.secondary_muscles)
        for e in load({}).catalog.entries.values()
    }
    sets = workspace.query(
        f"SELECT exercise_id, performed_at FROM sets WHERE athlete_id = ? AND {WORKING} "
        "AND reps IS NOT NULL",
        [athlete],
    )
    week = max(p.astimezone(UTC).date() for _, p in sets)
    monday = week - timedelta(days=week.weekday())
    expected: dict[str, float] = defaultdict(float)
    for exercise_id, performed_at in sets:
        day = performed_at.astimezone(UTC).date()
        if monday <= day < monday + timedelta(days=7):
            primary, secondary = muscles.get(exercise_id, ((), ()))
            for muscle in primary:
                expected[muscle] += 1
            for muscle in secondary:
                expected[muscle] += 0.5
    got = workspace.query(
        "SELECT muscle, sets FROM v_weekly_sets_by_muscle WHERE athlete_id = ? AND week_start = ?",
        [athlete, monday],
        db=workspace.snapshot,
    )
    assert dict(got) == dict(expected) and len(got) >= 3


def _what_changed_last_night(gym: Gym, athlete: str) -> None:
    workspace, (first, second) = gym.workspace, gym.nights
    with (REAL_DATA / REEXPORTED).open(encoding="utf-8") as handle:
        late = [row for row in csv.DictReader(handle) if row["Date"] >= CUTOFF]
    flags = workspace.query(
        "SELECT run_id, athlete_id, exercise_id, kind, action, next_sets, next_reps, "
        "round(next_load_kg, 4) FROM flags WHERE run_id IN (?, ?)",
        [first.run_id, second.run_id],
    )
    before = {_flag_key(f): f[4:] for f in flags if f[0] == first.run_id}
    after = {_flag_key(f): f[4:] for f in flags if f[0] == second.run_id}
    expected: Counter[tuple[object, str]] = Counter()
    for key, values in after.items():
        if key not in before:
            expected[key[0], "new"] += 1
        elif before[key] != values:
            expected[key[0], "changed"] += 1
    for key in before.keys() - after.keys():
        expected[key[0], "gone"] += 1
    last_night = workspace.scalar("SELECT finished_at FROM runs WHERE run_id = ?", [first.run_id])
    rows = workspace.query(
        "SELECT athlete_id, sets_new, sessions_new, sets_revised, flags_new, flags_changed, "
        "flags_gone FROM v_changes_since WHERE finished_at > ?",
        [last_night],
        db=workspace.snapshot,
    )
    changes = {row[0]: row[1:] for row in rows}
    assert changes[athlete][:3] == (len(late), len({row["Date"] for row in late}), 0)
    assert {a for a, row in changes.items() if row[0]} == {athlete}  # no one else's sets
    for a, row in changes.items():
        assert row[3:] == (expected[a, "new"], expected[a, "changed"], expected[a, "gone"]), a
    assert set(changes) == {a for a, _ in +expected} | {athlete}


def _flag_key(flag: tuple[object, ...]) -> tuple[object, ...]:
    _, athlete, exercise, kind, action, *_ = flag
    return athlete, exercise, kind, action if kind == "advice" else None


def _adherence(workspace: Workspace) -> None:
    """Every week from each athlete's first to this one, none missing, sessions as the sets
    have them, and the days since the last one."""
    today = datetime.now(UTC).date()
    sessions: dict[str, set[tuple[str, date]]] = defaultdict(set)
    for athlete, session, performed_at in workspace.query(
        "SELECT athlete_id, session_id, min(performed_at) FROM sets GROUP BY ALL"
    ):
        sessions[athlete].add((session, performed_at.astimezone(UTC).date()))
    rows = workspace.query(
        "SELECT athlete_id, week_start, sessions, days_since_last_session FROM v_adherence "
        "ORDER BY 1, 2",
        db=workspace.snapshot,
    )
    by_athlete: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for athlete, week, count, days in rows:
        by_athlete[athlete].append((week, count, days))
    assert set(by_athlete) == set(sessions)
    for athlete, weeks in by_athlete.items():
        days = sorted(day for _, day in sessions[athlete])
        assert weeks[0][0] == days[0] - timedelta(days=days[0].weekday())
        assert weeks[-1][0] == today - timedelta(days=today.weekday())
        assert all(b[0] - a[0] == timedelta(days=7) for a, b in pairwise(weeks))
        per_week = Counter(day - timedelta(days=day.weekday()) for day in days)
        assert {w: n for w, n, _ in weeks if n} == dict(per_week), athlete
        assert {d for _, _, d in weeks} == {(today - days[-1]).days}
    assert any(n == 0 for weeks in by_athlete.values() for _, n, _ in weeks)


def _flags_in_the_athletes_unit_for_excel(workspace: Workspace) -> None:
    result = repflow(
        "flags", "--db", str(workspace.db), "--format", "csv", "--excel", cwd=workspace.root
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeff")  # Excel reads the file as UTF-8
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"), newline="")))
    units = Counter(row["load_unit"] for row in rows)
    assert units["lb"] and units["kg"], units
    for row in rows:
        per_kg = 1 / LB if row["load_unit"] == "lb" else 1.0
        for column in ("current_load", "next_load"):
            kg = row[f"{column}_kg"]
            if kg:
                assert float(row[column]) == round(float(kg) * per_kg, 2), row
        if row["kind"] == "progression" and row["next_load"] and float(row["next_load"]) > 0:
            said = f"{float(row['next_load']):g} {row['load_unit']}"
            assert said in row["reason"], row  # the reason and the column agree
    assert any("×" in row["reason"] for row in rows)
