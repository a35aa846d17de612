"""The default configuration: repflow.toml, programs.toml and exercises.toml (data, not code)."""

from pathlib import Path

DEFAULT_DIR = Path(__file__).parent
