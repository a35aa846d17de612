"""The coach's views on small histories: weekly sets by muscle, adherence with the weeks without
training, what each run changed, and the current flags in the athlete's unit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import config
from flows import discovery, pipeline, runs
from tests.conftest import Workspace, csv_text

RECORDS = {r["name"]: r for r in json.loads(config.FREE_EXERCISE_DB.read_text(encoding="utf-8"))}


def _run(workspace: Workspace, as_of: date, **settings: object) -> runs.RunSummary:
    loaded = workspace.config(**settings)
    files, skipped = discovery.inbox_files(loaded)
    return pipeline.execute(loaded, files, "run", as_of, skipped=skipped)


def test_weekly_sets_count_primary_muscles_whole_and_secondary_ones_half(
    workspace: Workspace,
) -> None:
    # Tokyo is 9 hours ahead: Sunday 23:30 UTC is Monday morning there, the next week.
    rows = [
        *(f"2026-11-16T07:0{n}:00+00:00,Bench Press (Barbell),5,60,kg,,working" for n in range(3)),
        "2026-11-16T07:05:00+00:00,Bench Press (Barbell),10,20,kg,,warmup",
        *(f"2026-11-17T07:0{n}:00+00:00,Pull Up,8,0,kg,," for n in range(2)),
        *(f"2026-11-22T23:3{n}:00+00:00,Bench Press (Barbell),5,60,kg,," for n in range(4)),
    ]
    workspace.write("a1/export.csv", csv_text(*rows))
    _run(workspace, date(2026, 11, 30), timezone="Asia/Tokyo")
    bench = RECORDS["Barbell Bench Press - Medium Grip"]
    pull_up = RECORDS["Pullups"]
    expected = {}
    for week, sets in (
        (date(2026, 11, 16), {"bench": 3, "pull": 2}),
        (date(2026, 11, 23), {"bench": 4}),
    ):
        counts: dict[str, float] = {}
        for record, n in ((bench, sets.get("bench", 0)), (pull_up, sets.get("pull", 0))):
            for muscle in record["primaryMuscles"]:
                counts[muscle] = counts.get(muscle, 0) + n
            for muscle in record["secondaryMuscles"]:
                counts[muscle] = counts.get(muscle, 0) + n / 2
        expected.update({(week, m): n for m, n in counts.items() if n})
    got = workspace.query(
        "SELECT week_start, muscle, sets, primary_sets + secondary_sets / 2 FROM "
        "v_weekly_sets_by_muscle WHERE athlete_id = 'a1'",
        db=workspace.snapshot,
    )
    assert {(w, m): s for w, m, s, _ in got} == expected
    assert all(s == total for _, _, s, total in got)
    iso = workspace.query(
        "SELECT DISTINCT week_start, iso_week FROM v_weekly_sets_by_muscle ORDER BY 1",
        db=workspace.snapshot,
    )
    assert iso == [(date(2026, 11, 16), "2026-W47"), (date(2026, 11, 23), "2026-W48")]


def test_adherence_shows_the_weeks_without_training_and_the_days_since(
    workspace: Workspace,
) -> None:
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    days = [
        monday - timedelta(weeks=5),
        monday - timedelta(weeks=2),
        monday - timedelta(weeks=2, days=-2),
    ]
    rows = [f"{day}T07:00:00,Squat,5,60,kg,," for day in days]
    workspace.write("a1/export.csv", csv_text(*rows))
    _run(workspace, today)
    got = workspace.query(
        "SELECT week_start, sessions, working_sets, last_session_date, days_since_last_session "
        "FROM v_adherence WHERE athlete_id = 'a1' ORDER BY week_start",
        db=workspace.snapshot,
    )
    weeks = [monday - timedelta(weeks=n) for n in range(5, -1, -1)]
    trained = {weeks[0]: 1, weeks[3]: 2}
    assert [(w, n, s) for w, n, s, _, _ in got] == [
        (w, trained.get(w, 0), trained.get(w, 0)) for w in weeks
    ]
    assert {(last, since) for *_, last, since in got} == {(days[-1], (today - days[-1]).days)}


def test_changes_since_count_each_run_s_new_sets_edits_and_flag_changes(
    workspace: Workspace,
) -> None:
    first_export = [
        "2026-11-09T07:00:00,Squat,5,100,kg,,",
        "2026-11-09T07:01:00,Squat,5,100,kg,,",
        "2026-11-12T07:00:00,Squat,5,100,kg,,",
        "2026-11-12T07:01:00,Squat,5,100,kg,,",
    ]
    workspace.write("a1/export.csv", csv_text(*first_export))
    workspace.write("b2/export.csv", csv_text("2026-11-12T07:00:00,Bench Press,5,80,kg,,"))
    first = _run(workspace, date(2026, 11, 13))
    # The whole-history re-export: one set edited, a new session.
    second_export = [
        *first_export[:3],
        "2026-11-12T07:01:00,Squat,4,100,kg,,",
        "2026-11-16T07:00:00,Squat,5,102.5,kg,,",
        "2026-11-16T07:01:00,Squat,5,102.5,kg,,",
    ]
    workspace.write("a1/export.csv", csv_text(*second_export))
    second = _run(workspace, date(2026, 11, 17))
    got = workspace.query(
        "SELECT run_id, athlete_id, sets_new, sessions_new, sets_revised, sets_corrected, "
        "flags_new, flags_changed, flags_gone FROM v_changes_since ORDER BY 1, 2",
        db=workspace.snapshot,
    )
    assert [row[:6] for row in got] == [
        (first.run_id, "a1", 4, 2, 0, 0),  # the set edited later counts on the night it came
        (first.run_id, "b2", 1, 1, 0, 0),
        (second.run_id, "a1", 2, 1, 1, 0),
    ]
    assert [row[6:] for row in got] == [
        _flag_changes(workspace, None, first.run_id, "a1"),
        _flag_changes(workspace, None, first.run_id, "b2"),
        _flag_changes(workspace, first.run_id, second.run_id, "a1"),
    ]
    assert _flag_changes(workspace, first.run_id, second.run_id, "b2") == (0, 0, 0)
    assert got[2][7] == 1  # a1's progression flag moved on with the new session


def _flag_changes(
    workspace: Workspace, before: str | None, after: str, athlete: str
) -> tuple[int, int, int]:
    """New, changed and gone flags of `athlete` from run `before` to run `after`, read off
    the flags table."""
    flags = workspace.query(
        "SELECT run_id, exercise_id, kind, action, next_sets, next_reps, next_load_kg "
        "FROM flags WHERE athlete_id = ?",
        [athlete],
    )

    def of(run: str | None) -> dict[tuple[object, ...], tuple[object, ...]]:
        return {
            (exercise, kind, action if kind == "advice" else None): (action, *prescription)
            for run_id, exercise, kind, action, *prescription in flags
            if run_id == run
        }

    old, new = of(before), of(after)
    changed = sum(1 for key in new.keys() & old.keys() if new[key] != old[key])
    return len(new.keys() - old.keys()), changed, len(old.keys() - new.keys())


def test_current_flags_give_the_loads_in_the_athlete_s_unit(workspace: Workspace) -> None:
    rows = [f"2026-11-{d}T07:0{n}:00,Squat,5,135,lb,," for d in (9, 12) for n in range(3)]
    rows += [f"2026-11-{d}T08:0{n}:00,Bench Press,5,62.5,kg,," for d in (9, 12) for n in range(3)]
    workspace.write("a1/export.csv", csv_text(*rows))
    _run(workspace, date(2026, 11, 13))
    got = workspace.query(
        "SELECT exercise_id, load_unit, current_load_kg, current_load, next_load_kg, next_load "
        "FROM v_current_flags WHERE kind = 'progression' ORDER BY 1",
        db=workspace.snapshot,
    )
    (bench, squat) = got
    assert bench[:2] == ("bench_press", "kg") and squat[:2] == ("squat", "lb")
    assert bench[3] == 62.5 and squat[3] == 135.0  # what the lifter logged, in their unit
    assert bench[5] == round(bench[4], 2)
    assert squat[5] == round(squat[4] / 0.45359237, 2)
    assert squat[5] % 5 == 0  # stepped in pounds: a load a plate makes
