"""Loading settings and the config files, with one-line errors that name file, key and reason."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError

import config as default_config
from schemas import catalog
from schemas.config_files import ConfigError, ExercisesFile, ProgramsFile
from schemas.settings import SETTINGS_FILE, Settings

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Config:
    settings: Settings
    programs: ProgramsFile
    exercises: ExercisesFile  # the config folder's additions to the catalog
    exercises_file: Path
    sha256: str  # fingerprint of everything that can change a flag

    @cached_property
    def catalog(self) -> catalog.Catalog:
        """The exercise catalog: the base data with the config folder's exercises.toml on
        top. Built when a run mirrors it into the warehouse, not by every command."""
        records, base = _base_catalog()
        return catalog.build(
            records,
            [(str(default_config.CATALOG_FILE), base), (str(self.exercises_file), self.exercises)],
        )


def check_catalog(config: Config) -> int:
    """Build the exercise catalog now, so that a mistake in exercises.toml stops a command
    that loads sets before it starts; the number of exercises."""
    return len(config.catalog.entries)


@cache
def _base_catalog() -> tuple[list[dict[str, Any]], ExercisesFile]:
    """The catalog's base data shipped in the package: the Free Exercise DB and catalog.toml."""
    records = json.loads(default_config.FREE_EXERCISE_DB.read_text(encoding="utf-8"))
    return records, _model(ExercisesFile, default_config.CATALOG_FILE)


@cache
def _base_fingerprint() -> bytes:
    digest = hashlib.sha256()
    for path in (default_config.FREE_EXERCISE_DB, default_config.CATALOG_FILE):
        digest.update(path.read_bytes())
    return digest.digest()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc.strerror or exc}") from None


def _model(model: type[Model], path: Path) -> Model:
    try:
        return model.model_validate(_read_toml(path))
    except ValidationError as exc:
        raise ConfigError.from_validation(str(path), exc) from None


def config_dir(flag: Path | None = None) -> Path:
    """The config folder: --config, else REPFLOW_CONFIG, else the one shipped in the package."""
    from_env = os.environ.get("REPFLOW_CONFIG")
    return flag or (Path(from_env) if from_env else default_config.DEFAULT_DIR)


def _settings_source(error: ValidationError, flags: dict[str, Any], settings_file: Path) -> str:
    """Where the bad setting came from: a flag, an environment variable, or the file."""
    loc = error.errors(include_url=False)[0]["loc"]
    key = str(loc[0]) if loc else ""
    if key in flags:
        return f"--{key.replace('_', '-')}"
    if f"REPFLOW_{key.upper()}" in os.environ:
        return f"environment variable REPFLOW_{key.upper()}"
    return str(settings_file)


def _unparsed(error: SettingsError) -> ConfigError:
    """A setting whose value could not be read at all: an environment variable of a table
    (REPFLOW_ATHLETES, REPFLOW_SCHEDULE) holds JSON."""
    field = re.search(r'field "(\w+)"', str(error))
    name = field.group(1) if field else ""
    variable = f"REPFLOW_{name.upper()}"
    if variable in os.environ:
        example = EXAMPLES.get(name, "{...}")
        return ConfigError(f"environment variable {variable}", "", f"not JSON; e.g. {example}")
    return ConfigError("settings", name, str(error))


EXAMPLES = {
    "athletes": '{"a7": {"unit": "lb", "timezone": "Europe/Berlin"}}',
    "schedule": '{"cron": "0 3 * * *", "timezone": "UTC"}',
}


def load(overrides: dict[str, Any] | None = None) -> Config:
    """Settings from flags (`overrides`), env and repflow.toml, plus the two program files."""
    flags = {key: value for key, value in (overrides or {}).items() if value is not None}
    given = flags.get("config")  # a Path from the CLI, a str in a deployment's parameters
    folder = config_dir(None if given is None else Path(given))
    if not folder.is_dir():
        raise ConfigError(str(folder), "", "config folder not found")
    settings_file = folder / "repflow.toml"
    if settings_file.exists():
        _read_toml(settings_file)  # its syntax and encoding, in the words of a config error
    token = SETTINGS_FILE.set(settings_file if settings_file.exists() else None)
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        raise ConfigError.from_validation(
            _settings_source(exc, flags, settings_file), exc
        ) from None
    except SettingsError as exc:  # a REPFLOW_* variable that should hold JSON does not
        raise _unparsed(exc) from None
    finally:
        SETTINGS_FILE.reset(token)
    programs = _model(ProgramsFile, folder / "programs.toml")
    exercises_file = folder / "exercises.toml"
    exercises = _model(ExercisesFile, exercises_file)
    fingerprint = hashlib.sha256(_base_fingerprint())
    for part in (programs, exercises, settings.row_context()):
        fingerprint.update(repr(part).encode())
    return Config(settings, programs, exercises, exercises_file, fingerprint.hexdigest())
