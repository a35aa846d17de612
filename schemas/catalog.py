"""The exercise catalog: the Free Exercise DB as base data, the catalog's own entries and the
apps' names for them (config/catalog), then a config folder's exercises.toml on top.

Each layer adds exercises and names, and overrides what it gives: a name given to one exercise
by a later layer leaves the exercise an earlier layer gave it to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from schemas.config_files import (
    ASSISTED_WORDS,
    ConfigError,
    Exercise,
    ExercisesFile,
    exercise_key,
)
from schemas.exercise_match import signature, with_equipment

T = TypeVar("T")


def slug(name: str) -> str:
    """An exercise id from a name: "Barbell Bench Press - Medium Grip" is
    `barbell_bench_press_medium_grip`. An unmapped name keeps the slug of its key."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "unnamed"


@dataclass(frozen=True)
class Entry:
    """One exercise of the catalog, as the table `exercises` holds it."""

    exercise_id: str
    name: str
    free_exercise_db_id: str | None = None
    equipment: str | None = None
    mechanic: str | None = None
    category: str | None = None
    primary_muscles: tuple[str, ...] = ()
    secondary_muscles: tuple[str, ...] = ()
    assisted: bool = False
    aliases: frozenset[str] = field(default_factory=frozenset)

    def match_keys(self) -> list[str]:
        """The signatures of its names, and of those that state no equipment with its own."""
        keys = {signature(alias) for alias in self.aliases}
        keys |= {k for k in (with_equipment(key, self.equipment) for key in keys) if k}
        return sorted(keys)


def from_free_exercise_db(record: Mapping[str, Any], exercise_id: str | None = None) -> Entry:
    """An entry from a record of the Free Exercise DB (its dist/exercises.json)."""
    return Entry(
        exercise_id=exercise_id or slug(record["name"]),
        name=record["name"],
        free_exercise_db_id=record["id"],
        equipment=record.get("equipment"),
        mechanic=record.get("mechanic"),
        category=record.get("category"),
        primary_muscles=tuple(record.get("primaryMuscles") or ()),
        secondary_muscles=tuple(record.get("secondaryMuscles") or ()),
        aliases=frozenset({exercise_key(record["name"])}),
    )


@dataclass(frozen=True)
class Catalog:
    entries: dict[str, Entry]

    def alias_map(self) -> dict[str, str]:
        """Every matching key (names and aliases) → exercise_id."""
        return {alias: e.exercise_id for e in self.entries.values() for alias in e.aliases}


def build(
    records: Iterable[Mapping[str, Any]], layers: Iterable[tuple[str, ExercisesFile]]
) -> Catalog:
    """The Free Exercise DB's `records`, then each (file, layer) in order on top."""
    layers = list(layers)
    by_db = {record["id"]: record for record in records}
    entries = {entry.exercise_id: entry for entry in map(from_free_exercise_db, by_db.values())}
    for file, layer in layers:
        for exercise_id, exercise in layer.exercises.items():
            key = f"exercises.{exercise_id}"
            if exercise.free_exercise_db_id is not None:
                _tie(entries, exercise_id, by_db, exercise.free_exercise_db_id, (file, key))
            elif exercise_id not in entries and exercise.name is None:
                raise ConfigError(file, f"{key}.name", "required for an exercise the catalog lacks")
            entries[exercise_id] = _changed(entries.get(exercise_id), exercise_id, exercise)
    owned = _one_owner(entries, layers)
    _assisted_names_on_assisted_entries(owned, layers)
    return Catalog(dict(sorted(owned.items())))


def _assisted_names_on_assisted_entries(
    entries: dict[str, Entry], layers: list[tuple[str, ExercisesFile]]
) -> None:
    """A name that says "assisted" (ASSISTED_WORDS) ends on an assisted exercise, so that "Pull
    Up (Assisted)" never maps to `pull_up`, whichever layer gave the name or the flag."""
    for entry in entries.values():
        said = sorted(
            a for a in entry.aliases if not entry.assisted and re.search(ASSISTED_WORDS, a)
        )
        if not said:
            continue
        file, name = "config/catalog/free-exercise-db.json", said[0]
        for layer_file, layer in layers:  # the last layer to give the name wrote it
            exercise = layer.exercises.get(entry.exercise_id)
            written = (
                [n for n in exercise.names() if exercise_key(n) == said[0]] if exercise else []
            )
            if written:
                file, name = layer_file, written[0]
        raise ConfigError(
            file,
            f"exercises.{entry.exercise_id}",
            f"{name!r} names an assisted exercise: put it on an entry with assisted = true",
        )


def _one_owner(
    entries: dict[str, Entry], layers: list[tuple[str, ExercisesFile]]
) -> dict[str, Entry]:
    """Each name on one exercise: the one the last layer to give the name gave it to."""
    owner = {alias: e.exercise_id for e in entries.values() for alias in e.aliases}
    for _, layer in layers:
        for exercise_id, exercise in layer.exercises.items():
            owner.update((exercise_key(name), exercise_id) for name in exercise.names())
    return {
        exercise_id: replace(
            entry, aliases=frozenset(a for a in entry.aliases if owner[a] == exercise_id)
        )
        for exercise_id, entry in entries.items()
    }


def _tie(
    entries: dict[str, Entry],
    exercise_id: str,
    by_db: Mapping[str, Mapping[str, Any]],
    db_id: str,
    where: tuple[str, str],
) -> None:
    """Make `exercise_id` the database's entry `db_id`: the entry its name made is this
    exercise now, under this id, with the names both had. An entry the id was before is an
    exercise of its own again, under its name's slug."""
    file, key = where[0], f"{where[1]}.free_exercise_db_id"
    record = by_db.get(db_id)
    if record is None:
        raise ConfigError(file, key, "no such entry in the Free Exercise DB")
    before = entries.get(exercise_id)
    if before is not None and before.free_exercise_db_id not in (None, db_id):
        freed = from_free_exercise_db(by_db[before.free_exercise_db_id])
        entries.setdefault(freed.exercise_id, freed)
    made = entries.pop(slug(record["name"]), None)
    for entry in entries.values():
        if entry.free_exercise_db_id == db_id and entry.exercise_id != exercise_id:
            raise ConfigError(file, key, f"{db_id} is already {entry.exercise_id!r}")
    tied = from_free_exercise_db(record, exercise_id)
    aliases = tied.aliases | _aliases(entries.get(exercise_id)) | _aliases(made)
    entries[exercise_id] = replace(tied, aliases=aliases)


def _aliases(entry: Entry | None) -> frozenset[str]:
    return entry.aliases if entry is not None else frozenset()


def _changed(entry: Entry | None, exercise_id: str, exercise: Exercise) -> Entry:
    """`entry` (None: a new one) with what `exercise` gives."""
    current = entry or Entry(exercise_id=exercise_id, name=exercise.name or exercise_id)
    names = frozenset(exercise_key(name) for name in exercise.names())
    return Entry(
        exercise_id=exercise_id,
        name=_given(exercise.name, current.name),
        free_exercise_db_id=current.free_exercise_db_id,
        equipment=_given(exercise.equipment, current.equipment),
        mechanic=_given(exercise.mechanic, current.mechanic),
        category=_given(exercise.category, current.category),
        primary_muscles=_given(_tuple(exercise.primary_muscles), current.primary_muscles),
        secondary_muscles=_given(_tuple(exercise.secondary_muscles), current.secondary_muscles),
        assisted=_given(exercise.assisted, current.assisted),
        aliases=current.aliases | names,
    )


def _given(value: T | None, current: T) -> T:
    """What a layer gives, else what the entry had."""
    return current if value is None else value


def _tuple(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)
