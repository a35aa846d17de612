"""The catalog: the Free Exercise DB as base data, the catalog's own data on top, and a config
folder's exercises.toml adding to it and overriding it."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

import config
from flows.config import load
from schemas.catalog import Catalog, slug
from schemas.config_files import ConfigError
from tests.conftest import ROOT
from tests.schemas.test_config_files import write_config

RECORDS = json.loads(config.FREE_EXERCISE_DB.read_text(encoding="utf-8"))
# The ids the project always had, and the entry of the database each is (DESIGN.md).
SHIPPED = {
    "back_extension": "Hyperextensions_Back_Extensions",
    "bench_press": "Barbell_Bench_Press_-_Medium_Grip",
    "squat": "Barbell_Squat",
    "deadlift": "Barbell_Deadlift",
    "overhead_press": "Standing_Military_Press",
    "bent_over_row": "Bent_Over_Barbell_Row",
    "pull_up": "Pullups",
    "plank": "Plank",
}
# "Assisted" as the languages the readers meet write it.
ASSISTED = re.compile(r"assist|asist")


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load({}).catalog


def test_every_entry_of_the_database_is_one_exercise(shipped: Catalog) -> None:
    tied = [e.free_exercise_db_id for e in shipped.entries.values() if e.free_exercise_db_id]
    assert sorted(tied) == sorted(record["id"] for record in RECORDS)
    for record in RECORDS:
        (entry,) = (e for e in shipped.entries.values() if e.free_exercise_db_id == record["id"])
        assert entry.primary_muscles == tuple(record["primaryMuscles"])
        assert entry.secondary_muscles == tuple(record["secondaryMuscles"])
        assert (entry.equipment, entry.mechanic, entry.category) == (
            record["equipment"],
            record["mechanic"],
            record["category"],
        )
        # New ids are slugs of the database's names; the shipped ids stay.
        assert entry.exercise_id == {v: k for k, v in SHIPPED.items()}.get(
            record["id"], slug(record["name"])
        )


def test_the_shipped_ids_are_their_database_entries(shipped: Catalog) -> None:
    by_id = {record["id"]: record for record in RECORDS}
    for exercise_id, db_id in SHIPPED.items():
        entry = shipped.entries[exercise_id]
        assert entry.free_exercise_db_id == db_id
        made = slug(by_id[db_id]["name"])
        assert made == exercise_id or made not in shipped.entries  # no second id for it
        assert by_id[db_id]["name"].lower() in entry.aliases  # its database name maps here
    machine = shipped.entries["back_extension_machine"]
    assert machine.free_exercise_db_id is None
    assert machine.primary_muscles == ("lower back",) and machine.equipment == "machine"


def test_names_that_say_assisted_are_on_assisted_exercises(shipped: Catalog) -> None:
    said = {
        alias: entry.exercise_id
        for entry in shipped.entries.values()
        for alias in entry.aliases
        if ASSISTED.search(alias)
    }
    assert {"chest dip (assisted)", "ring assisted dips", "band assisted pull-up"} <= set(said)
    assert {shipped.entries[i].assisted for i in said.values()} == {True}
    assert shipped.entries["pull_up"].assisted is False


def test_the_catalog_data_holds_no_name_twice() -> None:
    """tomllib would not say so of a name repeated in one exercise's aliases."""
    data = tomllib.loads(config.CATALOG_FILE.read_text(encoding="utf-8"))
    for exercise_id, fields in data["exercises"].items():
        names = [n.lower() for n in [fields.get("name", ""), *fields.get("aliases", [])] if n]
        assert len(names) == len(set(names)), exercise_id


def _with_exercises(tmp_path: Path, text: str) -> Catalog:
    return load({"config": write_config(tmp_path, "exercises.toml", text)}).catalog


def test_a_config_adds_exercises_and_names_and_overrides_muscles(tmp_path: Path) -> None:
    catalog = _with_exercises(
        tmp_path,
        """
[exercises.prowler_march]
name = "Prowler March"
aliases = ["Sled March"]
primary_muscles = ["quadriceps"]

[exercises.leg_press]
aliases = ["Beinpresse"]
secondary_muscles = ["glutes"]

[exercises.barbell_bench]
name = "Barbell Bench"
aliases = ["Bench Press (Barbell)"]
""",
    )
    aliases = catalog.alias_map()
    assert catalog.entries["prowler_march"].primary_muscles == ("quadriceps",)
    assert aliases["sled march"] == "prowler_march"
    leg_press = catalog.entries["leg_press"]
    assert aliases["beinpresse"] == "leg_press" and aliases["leg press"] == "leg_press"
    assert leg_press.secondary_muscles == ("glutes",)
    assert leg_press.primary_muscles == ("quadriceps",)  # what it does not give stays
    # A name given to another exercise leaves the one the catalog gave it to.
    assert aliases["bench press (barbell)"] == "barbell_bench"
    assert "bench press (barbell)" not in catalog.entries["bench_press"].aliases


def test_an_id_tied_to_another_entry_frees_the_one_it_was(tmp_path: Path) -> None:
    catalog = _with_exercises(
        tmp_path,
        '[exercises.bench_press]\nfree_exercise_db_id = "Wide-Grip_Barbell_Bench_Press"\n',
    )
    bench = catalog.entries["bench_press"]
    assert bench.free_exercise_db_id == "Wide-Grip_Barbell_Bench_Press"
    assert "wide_grip_barbell_bench_press" not in catalog.entries
    assert "bench press (barbell)" in bench.aliases  # the apps' names stay with the id
    medium = catalog.entries["barbell_bench_press_medium_grip"]
    assert medium.free_exercise_db_id == "Barbell_Bench_Press_-_Medium_Grip"
    assert medium.primary_muscles == ("chest",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[exercises.prowler_march]\naliases = ['March']\n",
            "exercises.prowler_march.name: required",
        ),
        (
            "[exercises.mine]\nname = 'Mine'\nfree_exercise_db_id = 'Nope'\n",
            "exercises.mine.free_exercise_db_id: no such entry",
        ),
        (
            "[exercises.mine]\nname = 'Mine'\nfree_exercise_db_id = 'Pullups'\n",
            "exercises.mine.free_exercise_db_id: Pullups is already 'pull_up'",
        ),
        (
            "[exercises.squat]\nprimary_muscles = ['quads']\n",
            "exercises.squat.primary_muscles.0: Input should be 'abdominals'",
        ),
    ],
    ids=["new-without-name", "unknown-entry", "entry-taken", "unknown-muscle"],
)
def test_config_mistakes_name_file_key_and_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _with_exercises(tmp_path, text)
    assert str(caught.value).startswith(str(tmp_path / "config" / "exercises.toml"))
    assert message in str(caught.value)


def test_the_example_in_the_configuration_docs_is_a_valid_exercises_toml(tmp_path: Path) -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    section = docs[docs.index("## exercises.toml") :]
    example = section[
        section.index("```toml\n") + 8 : section.index("```\n", section.index("```toml"))
    ]
    catalog = _with_exercises(tmp_path, example)
    assert catalog.entries["sled_march"].primary_muscles == ("quadriceps",)
    assert catalog.alias_map()["beinpresse"] == "leg_press"
    assert catalog.entries["my_bench"].free_exercise_db_id == "Wide-Grip_Barbell_Bench_Press"
    assert "wide_grip_barbell_bench_press" not in catalog.entries
