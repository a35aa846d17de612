"""Models of the config files `programs.toml` and `exercises.toml`, and the error they raise.

A wrong config stops a run before anything loads, so every rule here names the file, the key
and the reason in one line.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.set_row import is_athlete_id

SLUG_RE = r"^[a-z0-9][a-z0-9_]*$"
# "Assisted" in the languages the readers meet (English, French, Italian, Portuguese and Dutch
# share the stem; Spanish, German, Russian, Japanese), and the counterweight machine's brand
# name. A name with one of them is an assisted exercise, never its unassisted namesake. Written
# for both Python's re and DuckDB's RE2, on names already lower-cased (exercise_key).
ASSISTED_WORDS = "assist|asist|unterstütz|ondersteun|gravitron|гравитрон|ассист|アシスト|補助"
Slug = Annotated[str, Field(pattern=SLUG_RE, max_length=64)]


class ConfigError(Exception):
    """A config file that cannot be used: `file: key: reason`."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}" if key else f"{file}: {reason}")
        self.file, self.key, self.reason = file, key, reason

    @classmethod
    def from_validation(cls, file: str, error: ValidationError) -> ConfigError:
        first = error.errors(include_url=False)[0]
        key = ".".join(str(part) for part in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown key"
        elif first["type"] == "missing":
            reason = "required key is missing"
        return cls(file, key, reason)


class Strict(BaseModel):
    # `inf` and `nan` are valid TOML floats, and no value of ours: a load step of inf prescribes
    # "4×10 @ inf kg".
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Bounds far past any program, and short of what overflows an integer or a prescription: a
# rep step of 10**30 fails here, not after the night's files are loaded.
MAX_COUNT = 1000  # sets or reps, as the set contract bounds reps
MAX_LOAD_STEP_KG = 100.0
MAX_LOAD_STEP_LB = 220.0
MAX_DAYS = 36_500


class Range(Strict):
    """An inclusive [min, max] range, written in TOML as a two-item array."""

    min: int = Field(ge=1, le=MAX_COUNT)
    max: int = Field(ge=1, le=MAX_COUNT)

    @model_validator(mode="before")
    @classmethod
    def from_pair(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("expected [min, max]")
            return {"min": value[0], "max": value[1]}
        return value

    @model_validator(mode="after")
    def ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


SCHEME_SESSIONS = 6
# The fields of the fixed table that the lifter's own scheme does not read, with the value that
# means "not set": setting one under `own` would do nothing, so the config says so.
FIXED_ONLY = {
    "sets": None,
    "reps": None,
    "sets_on_ladder": False,
    "rep_step": 1,
    "intro_sessions": 0,
    "load_cue": "",
}


class Program(Strict):
    """A fixed double progression with an optional set ladder, or the lifter's own scheme
    (see docs/rules.md)."""

    description: str = ""
    scheme: Literal["own", "fixed"] = "fixed"
    scheme_sessions: int = Field(default=SCHEME_SESSIONS, ge=2, le=12)
    sets: Range | None = None
    reps: Range | None = None
    sets_on_ladder: bool = False
    rep_step: int = Field(default=1, ge=1, le=MAX_COUNT)
    load_step_kg: float = Field(gt=0, le=MAX_LOAD_STEP_KG)
    load_step_lb: float = Field(gt=0, le=MAX_LOAD_STEP_LB)
    intro_sessions: int = Field(default=0, ge=0, le=MAX_COUNT)
    confirm_load: int = Field(default=2, ge=1, le=10)
    rpe_cap: float = Field(default=10, ge=1, le=10)
    sessions_per_week: int | None = Field(default=None, ge=1, le=14)
    first_in_session: bool = False
    load_cue: str = ""
    stall_sessions: int = Field(default=3, ge=0, le=10)
    break_days: int = Field(default=21, ge=0, le=MAX_DAYS)
    deload_factor: float = Field(default=0.9, ge=0.5, le=1)
    dormant_days: int = Field(default=180, ge=0, le=MAX_DAYS)

    @model_validator(mode="after")
    def fits_the_scheme(self) -> Self:
        if self.scheme == "fixed":
            for key in ("sets", "reps"):
                if getattr(self, key) is None:
                    raise ValueError(f"{key} is required when scheme is 'fixed'")
            if self.scheme_sessions != SCHEME_SESSIONS:
                raise ValueError("scheme_sessions is read only when scheme is 'own'")
            return self
        for key, unset in FIXED_ONLY.items():
            if getattr(self, key) != unset:
                raise ValueError(
                    f"{key} is not used when scheme is 'own' (the lifter's sets and reps are "
                    "learned from their sessions)"
                )
        return self

    @model_validator(mode="after")
    def dormant_after_break(self) -> Self:
        # An exercise dormant before its break ends would never be told to resume.
        if self.break_days and self.dormant_days and self.dormant_days <= self.break_days:
            raise ValueError(
                f"dormant_days {self.dormant_days} must be above break_days {self.break_days} "
                "(or 0, to keep every exercise)"
            )
        return self


class ProgramOverride(Strict):
    """Any program field, replaced for one athlete."""

    description: str | None = None
    scheme: Literal["own", "fixed"] | None = None
    scheme_sessions: int | None = None
    sets: Range | None = None
    reps: Range | None = None
    sets_on_ladder: bool | None = None
    rep_step: int | None = None
    load_step_kg: float | None = None
    load_step_lb: float | None = None
    intro_sessions: int | None = None
    confirm_load: int | None = None
    rpe_cap: float | None = None
    sessions_per_week: int | None = None
    first_in_session: bool | None = None
    load_cue: str | None = None
    stall_sessions: int | None = None
    break_days: int | None = None
    deload_factor: float | None = None
    dormant_days: int | None = None


class ProgramsFile(Strict):
    """`programs.toml`: programs, which exercise follows which, and per-athlete overrides."""

    programs: dict[Slug, Program]
    assign: dict[Slug, Slug] = {}
    overrides: dict[str, dict[Slug, ProgramOverride]] = {}

    @field_validator("programs")
    @classmethod
    def has_default(cls, programs: dict[str, Program]) -> dict[str, Program]:
        if "default" not in programs:
            raise ValueError("a program named 'default' is required for unassigned exercises")
        return programs

    @model_validator(mode="after")
    def references_exist(self) -> Self:
        for exercise, program in self.assign.items():
            if program not in self.programs:
                raise ValueError(
                    f"assign.{exercise}: program {program!r} does not exist "
                    f"(known: {', '.join(sorted(self.programs))})"
                )
        for athlete, by_program in self.overrides.items():
            if not is_athlete_id(athlete):
                raise ValueError(f"overrides.{athlete}: not a valid athlete_id")
            for program in by_program:
                if program not in self.programs:
                    raise ValueError(
                        f"overrides.{athlete}.{program}: program {program!r} does not exist"
                    )
                self.program_for(athlete, program)  # the merged program must be valid too
        return self

    def program_for(self, athlete: str | None, program_id: str) -> Program:
        base = self.programs[program_id]
        override = self.overrides.get(athlete or "", {}).get(program_id)
        if override is None:
            return base
        changes = override.model_dump(exclude_none=True)
        merged = base.model_dump()
        if changes.get("scheme") == "own":  # the athlete follows their own sets and reps
            merged |= FIXED_ONLY
        elif changes.get("scheme") == "fixed":
            merged["scheme_sessions"] = SCHEME_SESSIONS
        return Program.model_validate(merged | changes)

    def program_id_for(self, exercise_id: str) -> str:
        return self.assign.get(exercise_id, "default")


# The muscles of the Free Exercise DB (config/catalog), which every exercise's are named in.
Muscle = Literal[
    "abdominals",
    "abductors",
    "adductors",
    "biceps",
    "calves",
    "chest",
    "forearms",
    "glutes",
    "hamstrings",
    "lats",
    "lower back",
    "middle back",
    "neck",
    "quadriceps",
    "shoulders",
    "traps",
    "triceps",
]
Mechanic = Literal["compound", "isolation"]


class Exercise(Strict):
    """An exercise of the catalog, or what a later layer changes of one: a key left out keeps
    what the catalog's base data says (config/catalog)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    aliases: list[str] = []
    # The Free Exercise DB entry (its `id`) this exercise is: its equipment, mechanic, category
    # and muscles come from there unless given here.
    free_exercise_db_id: str | None = None
    equipment: str | None = None
    mechanic: Mechanic | None = None
    category: str | None = None
    primary_muscles: list[Muscle] | None = None
    secondary_muscles: list[Muscle] | None = None
    # The logged load is help (an assisted pull-up or dip): less of it is progress.
    assisted: bool | None = None

    def names(self) -> list[str]:
        """The names that map to it: its name, when it gives one, and its aliases."""
        return [self.name, *self.aliases] if self.name else list(self.aliases)


def exercise_key(name: str) -> str:
    """How names are matched: case-insensitive, with runs of white space collapsed."""
    return " ".join(name.lower().split())


class ExercisesFile(Strict):
    """`exercises.toml`: exercise ids, the names that map to them, and what they train. The
    catalog's base data (config/catalog/catalog.toml) and a config folder's exercises.toml,
    which adds to it and overrides it, are both such files."""

    exercises: dict[Slug, Exercise] = {}

    @model_validator(mode="after")
    def aliases_unique(self) -> Self:
        seen: dict[str, str] = {}
        for exercise_id, exercise in self.exercises.items():
            for alias in exercise.names():
                key = exercise_key(alias)
                if exercise.assisted is False and re.search(ASSISTED_WORDS, key):
                    raise ValueError(
                        f"exercises.{exercise_id}: {alias!r} names an assisted exercise: put it "
                        "on an entry with assisted = true"
                    )
                if seen.setdefault(key, exercise_id) != exercise_id:
                    raise ValueError(
                        f"exercises.{exercise_id}: alias {alias!r} already names {seen[key]!r}"
                    )
        return self
