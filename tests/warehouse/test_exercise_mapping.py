"""How a set's name finds its exercise: an alias, a Garmin subtype or category, the matcher when
one exercise alone has the name's signature, else a slug of its own; once per name, not per set."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from fit_tool.profile.profile_type import ExerciseCategory

import warehouse.catalog
from flows import discovery, pipeline, runs
from schemas.exercise_match import signature
from tests.conftest import ROOT, Workspace, csv_text
from tests.sources.fit_fixtures import FitSet, write_fit

# Garmin's pull-up category holds lat pulldowns and assisted pull-ups (its FIT profile).
LAT_PULLDOWN, BAND_ASSISTED_PULL_UP = 13, 42


def _ids(workspace: Workspace) -> dict[str, str]:
    return dict(workspace.query("SELECT DISTINCT exercise_raw, exercise_id FROM sets"))


def _run(workspace: Workspace, config: Path | None = None) -> runs.RunSummary:
    loaded = workspace.config(config=config)
    files, _ = discovery.inbox_files(loaded)
    return pipeline.execute(loaded, files, "run", date(2026, 11, 20))


def test_a_name_maps_by_alias_then_by_signature_and_is_never_guessed(
    workspace: Workspace,
) -> None:
    names = [
        "Bench Press (Barbell)",  # Strong's name: an alias
        "Barbell Bench Press - Medium Grip",  # the database's name of bench_press
        "Bench Press (Dumbbell)",  # the matcher: dumbbell|bench press
        "Leg Press (Machine)",  # the matcher, with leg_press's own equipment
        "Pull Up (Assisted)",  # assisted: never pull_up
        "Squat (Band)",  # bands|squat: two exercises of the database have it
    ]
    rows = [f"2026-11-16T07:{n:02d}:00,{name},5,20,kg,," for n, name in enumerate(names)]
    workspace.ingest("a1/export.csv", csv_text(*rows))
    assert _ids(workspace) == {
        "Bench Press (Barbell)": "bench_press",
        "Barbell Bench Press - Medium Grip": "bench_press",
        "Bench Press (Dumbbell)": "dumbbell_bench_press",
        "Leg Press (Machine)": "leg_press",
        "Pull Up (Assisted)": "assisted_pull_up",
        "Squat (Band)": "squat_band",
    }
    sharing = workspace.query(
        "SELECT exercise_id FROM exercises WHERE list_contains(match_keys, ?) ORDER BY 1",
        [signature("Squat (Band)")],
    )
    assert len(sharing) == 2  # so it stays unmapped, and is listed
    assert workspace.query("SELECT exercise_key FROM v_unmapped_exercises") == [("squat (band)",)]
    assert workspace.scalar("SELECT assisted FROM exercises WHERE exercise_id = 'assisted_pull_up'")


def test_each_name_is_matched_once_per_file_not_once_per_set(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    name_row = warehouse.catalog._name_row

    def counted(fmt: str, key: str) -> dict[str, str | None]:
        seen.append(key)
        return name_row(fmt, key)

    monkeypatch.setattr(warehouse.catalog, "_name_row", counted)
    rows = [
        f"2026-11-{1 + n // 300:02d}T07:{n % 60:02d}:{n // 60 % 5:02d},{name},5,20,kg,,"
        for n in range(3000)
        for name in [("Bench Press (Dumbbell)", "Squat", "Zercher Tire Drag")[n % 3]]
    ]
    outcome = workspace.ingest("a1/export.csv", csv_text(*rows))
    assert outcome.loaded == 3000
    assert sorted(seen) == ["bench press (dumbbell)", "squat", "zercher tire drag"]


def test_garmin_names_map_by_subtype_before_category(workspace: Workspace) -> None:
    write_fit(
        workspace.inbox / "g1" / "w.fit",
        [
            FitSet(8, 0.0, ExerciseCategory.PULL_UP, LAT_PULLDOWN),
            FitSet(8, 20.0, ExerciseCategory.PULL_UP, BAND_ASSISTED_PULL_UP),
            FitSet(8, 0.0, ExerciseCategory.PULL_UP),
            FitSet(15, 0.0, ExerciseCategory.HYPEREXTENSION),
        ],
    )
    _run(workspace)
    ids = _ids(workspace)
    assert ids["Pull Up: Lat Pulldown"] == "wide_grip_lat_pulldown"  # whatever its category
    assert ids["Pull Up"] == "pull_up"
    assert ids["Hyperextension"] == "back_extension"
    assisted = ids["Pull Up: Band Assisted Pull Up"]  # help, never the pull-up
    assert workspace.scalar("SELECT assisted FROM exercises WHERE exercise_id = ?", [assisted])


def test_aliases_win_over_the_matcher_and_editing_them_remaps_stored_sets(
    workspace: Workspace, tmp_path: Path
) -> None:
    workspace.write(
        "a1/export.csv", csv_text("2026-11-16T07:00:00,Bench Press (Dumbbell),5,20,kg,,")
    )
    _run(workspace)
    assert _ids(workspace) == {"Bench Press (Dumbbell)": "dumbbell_bench_press"}
    custom = tmp_path / "config"
    shutil.copytree(ROOT / "config", custom)
    (custom / "exercises.toml").write_text(
        '[exercises.bench_press]\naliases = ["Bench Press (Dumbbell)"]\n'
    )
    _run(workspace, custom)
    assert _ids(workspace) == {"Bench Press (Dumbbell)": "bench_press"}
    shutil.copy(ROOT / "config" / "exercises.toml", custom / "exercises.toml")
    _run(workspace, custom)
    assert _ids(workspace) == {"Bench Press (Dumbbell)": "dumbbell_bench_press"}


def test_a_program_assigned_to_a_shipped_id_applies_to_the_apps_names(
    workspace: Workspace,
) -> None:
    rows = [
        f"2026-11-{day:02d}T07:0{n}:00,{name},10,0,kg,,"
        for day in (10, 13, 16)
        for n, name in enumerate(
            ["Hyperextensions (Back Extensions)", "Roman Chair Back Extension"]
        )
    ]
    workspace.write("a1/export.csv", csv_text(*rows))
    _run(workspace)
    assert set(_ids(workspace).values()) == {"back_extension"}
    assert workspace.query("SELECT DISTINCT program_id FROM flags WHERE kind = 'progression'") == [
        ("hyperextension",)
    ]


def test_an_unchanged_catalog_is_not_mirrored_again(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sync at the start of every run compares the catalog and stops there: it reads no
    stored set, so its cost does not grow with the warehouse."""
    workspace.ingest("a1/export.csv", csv_text("2026-11-16T07:00:00,Squat,5,60,kg,,"))
    config = workspace.config()

    def refused(*_: object) -> None:
        raise AssertionError("the stored sets' names were read again")

    monkeypatch.setattr(warehouse.catalog, "exercise_names", refused)
    runs.prepare(workspace.db, config, 0)
