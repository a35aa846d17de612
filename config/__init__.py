"""The default configuration: repflow.toml, programs.toml and exercises.toml (data, not code),
and the exercise catalog's base data in catalog/."""

from pathlib import Path

DEFAULT_DIR = Path(__file__).parent
CATALOG_DIR = DEFAULT_DIR / "catalog"
FREE_EXERCISE_DB = CATALOG_DIR / "free-exercise-db.json"
CATALOG_FILE = CATALOG_DIR / "catalog.toml"
