"""Placeholder while the reader is written: detects nothing."""

from __future__ import annotations

from pathlib import Path

from sources.base import Parsed
from sources.csv_text import UnreadableFile

FORMAT = "liftosaur_csv"


def detect(head: bytes) -> bool:
    return False


def read(path: Path) -> Parsed:
    raise UnreadableFile("not written yet")
