"""Config files: the shipped ones are valid, and every mistake names file, key and reason."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from config import DEFAULT_DIR
from flows.config import load
from schemas.config_files import ConfigError, ProgramsFile, Range, exercise_key


def shipped(name: str) -> dict[str, Any]:
    with (DEFAULT_DIR / name).open("rb") as handle:
        return tomllib.load(handle)


def write_config(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    for file in ("repflow.toml", "programs.toml", "exercises.toml"):
        (folder / file).write_text((DEFAULT_DIR / file).read_text())
    (folder / name).write_text(text)
    return folder


def test_shipped_config_is_valid_and_has_the_four_programs() -> None:
    programs = ProgramsFile.model_validate(shipped("programs.toml"))
    assert set(programs.programs) == {
        "hyperextension",
        "machine_back_extension",
        "default",
        "double_progression",
    }
    assert programs.programs["default"].scheme == "own"
    assert programs.programs["default"].scheme_sessions == 6
    hyper = programs.programs["hyperextension"]
    assert (hyper.sets.min, hyper.sets.max, hyper.reps.min, hyper.reps.max) == (2, 4, 10, 15)
    assert (hyper.intro_sessions, hyper.confirm_load, hyper.sessions_per_week) == (3, 2, 2)
    assert programs.program_id_for("squat") == "default"


def test_catalog_knows_the_names_in_the_design() -> None:
    aliases = load({}).catalog.alias_map()
    for name in [
        "Back Extension",
        "Hyperextension",
        "Hyperextensions",
        "Back Hyperextension",
        "Roman Chair Back Extension",
        "Back Extension (Hyperextension)",
        "Back Extension (Weighted Hyperextension)",
    ]:
        assert aliases[exercise_key(name)] == "back_extension", name
    for name in [
        "Back Extension (Machine)",
        "Machine Back Extension",
        "Lower Back Extension (Machine)",
    ]:
        assert aliases[exercise_key(name)] == "back_extension_machine", name
    assert aliases[exercise_key("  back   EXTENSION ")] == "back_extension"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("rpe_cap = 10\nsessions", "rpe_cap = 10\nbogus = 1\nsessions"),
            "programs.hyperextension.bogus: unknown key",
        ),
        (
            ("reps = [10, 15]", "reps = [15, 10]"),
            "programs.hyperextension.reps: min 15 is above max 10",
        ),
        (
            (
                "load_step_kg = 2.5\nload_step_lb = 5\nintro_sessions = 3",
                "load_step_kg = 0\nload_step_lb = 5\nintro_sessions = 3",
            ),
            "programs.hyperextension.load_step_kg: Input should be greater than 0",
        ),
        (
            ('back_extension = "hyperextension"', 'back_extension = "hyperextensions"'),
            "assign.back_extension: program 'hyperextensions' does not exist",
        ),
        (("[programs.default]", "[programs.fallback]"), "a program named 'default' is required"),
        (
            ('scheme = "own"\n', 'scheme = "own"\nsets = [3, 4]\n'),
            "programs.default: sets is not used when scheme is 'own'",
        ),
        (
            ('scheme = "own"\n', 'scheme = "own"\nsets_on_ladder = true\n'),
            "programs.default: sets_on_ladder is not used when scheme is 'own'",
        ),
        (
            ('scheme = "own"\n', 'scheme = "mine"\n'),
            "programs.default.scheme: Input should be 'own' or 'fixed'",
        ),
        (
            ("scheme_sessions = 6", "scheme_sessions = 1"),
            "programs.default.scheme_sessions: Input should be greater than or equal to 2",
        ),
        (
            ("sets = [3, 4]\nreps = [8, 12]\n", "sets = [3, 4]\n"),
            "programs.double_progression: reps is required when scheme is 'fixed'",
        ),
        (
            (
                "sets = [3, 4]\nreps = [8, 12]\n",
                "scheme_sessions = 4\nsets = [3, 4]\nreps = [8, 12]\n",
            ),
            "programs.double_progression: scheme_sessions is read only when scheme is 'own'",
        ),
    ],
    ids=[
        "unknown-key",
        "reps-min-above-max",
        "step-not-positive",
        "unknown-program",
        "no-default",
        "own-with-sets",
        "own-with-a-ladder",
        "unknown-scheme",
        "window-too-short",
        "fixed-without-reps",
        "fixed-with-a-window",
    ],
)
def test_program_mistakes_name_file_key_and_reason(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = (DEFAULT_DIR / "programs.toml").read_text()
    assert change[0] in text
    folder = write_config(tmp_path, "programs.toml", text.replace(change[0], change[1]))
    with pytest.raises(ConfigError) as caught:
        load({"config": folder})
    assert str(caught.value).startswith(str(folder / "programs.toml"))
    assert message in str(caught.value)


def test_override_must_stay_valid_after_merging(tmp_path: Path) -> None:
    text = (DEFAULT_DIR / "programs.toml").read_text()
    folder = write_config(
        tmp_path,
        "programs.toml",
        text + "\n[overrides.a7.hyperextension]\nreps = [16, 20]\nsets = [5, 2]\n",
    )
    with pytest.raises(ConfigError, match="min 5 is above max 2"):
        load({"config": folder})


def test_an_override_may_switch_an_athlete_to_the_other_scheme() -> None:
    data = shipped("programs.toml")
    data["overrides"] = {
        "a7": {
            "default": {"scheme": "fixed", "sets": [3, 4], "reps": [8, 12]},
            "hyperextension": {"scheme": "own", "scheme_sessions": 4},
        }
    }
    programs = ProgramsFile.model_validate(data)
    fixed = programs.program_for("a7", "default")
    assert (fixed.scheme, fixed.sets, fixed.scheme_sessions) == ("fixed", Range(min=3, max=4), 6)
    own = programs.program_for("a7", "hyperextension")
    assert (own.scheme, own.sets, own.sets_on_ladder, own.scheme_sessions) == (
        "own",
        None,
        False,
        4,
    )
    assert programs.program_for("b1", "default").scheme == "own"
    data["overrides"] = {"a7": {"default": {"scheme": "fixed"}}}
    with pytest.raises(ValidationError, match="sets is required when scheme is 'fixed'"):
        ProgramsFile.model_validate(data)


def test_alias_naming_two_exercises_in_one_file_is_an_error(tmp_path: Path) -> None:
    text = '[exercises.one]\nname = "One"\n\n[exercises.other]\nname = "Other"\naliases = ["ONE"]\n'
    folder = write_config(tmp_path, "exercises.toml", text)
    with pytest.raises(ConfigError, match=r"exercises\.other: alias 'ONE' already names 'one'"):
        load({"config": folder})


def test_settings_errors_name_their_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_config(tmp_path, "repflow.toml", 'timezone = "Nowhere/Land"\n')
    with pytest.raises(ConfigError, match=r"repflow.toml: timezone: unknown timezone"):
        load({"config": folder})
    folder = write_config(tmp_path, "repflow.toml", "inboxx = 'x'\n")
    with pytest.raises(ConfigError, match="inboxx: unknown key"):
        load({"config": folder})
    monkeypatch.setenv("REPFLOW_UNIT", "stone")
    with pytest.raises(ConfigError, match="environment variable REPFLOW_UNIT: unit"):
        load({})


def test_flags_win_over_environment_over_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_config(
        tmp_path, "repflow.toml", 'timezone = "Europe/Berlin"\ndb = "file.duckdb"\n'
    )
    assert load({"config": folder}).settings.timezone == "Europe/Berlin"
    monkeypatch.setenv("REPFLOW_DB", "env.duckdb")
    assert load({"config": folder}).settings.db == Path("env.duckdb")
    assert load({"config": folder, "db": Path("flag.duckdb")}).settings.db == Path("flag.duckdb")
    # The snapshot is named after its warehouse, beside its real file.
    assert (
        load({"config": folder}).settings.analytics_path == Path("env.analytics.duckdb").resolve()
    )
