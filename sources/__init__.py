"""Readers, one module per input format, each with `FORMAT`, `VERSION`, `detect(head)` and
`read(path)`.

The registry below is the one list of formats: a new format is one module and one line here.
Detection looks at the content (a header signature, magic bytes), never at the file name.
A reader's `VERSION` goes up when a fix changes what it stores from the same bytes: sets then
changed are corrections, and `repflow reload` re-reads the files an older version read.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import ModuleType

from sources import (
    alpha_progression_csv,
    canonical_csv,
    fitbod_csv,
    fitnotes_csv,
    garmin_fit,
    hevy_csv,
    jefit_csv,
    liftosaur_csv,
    machine_json,
    speediance_json,
    strong_csv,
    zip_bundle,
)
from sources.base import Parsed
from sources.csv_text import UnreadableFile, decoded_as

READERS: tuple[ModuleType, ...] = (
    canonical_csv,
    strong_csv,
    hevy_csv,
    fitnotes_csv,
    fitbod_csv,
    jefit_csv,
    alpha_progression_csv,
    liftosaur_csv,
    machine_json,
    speediance_json,
    garmin_fit,
    zip_bundle,
)
HEAD_BYTES = 64 * 1024


def describe(head: bytes) -> str:
    """The first bytes of a file, as a person can read them in an error message."""
    if not head:
        return "the file is empty"
    sample = head[:16]
    printable = all(32 <= b < 127 or b in (9, 10, 13) for b in sample)
    shown = repr(sample.decode("ascii")) if printable else sample.hex(" ")
    return f"it starts with {shown}"


def detect(head: bytes) -> ModuleType:
    for reader in READERS:
        if reader.detect(head):
            return reader
    known = ", ".join(reader.FORMAT for reader in READERS)
    raise UnreadableFile(f"unrecognised format: {describe(head)}; known formats: {known}")


def reader_version(fmt: str) -> int:
    """The version of the reader of `fmt`. A zip of several formats is stored as `zip_bundle`:
    its version goes up with any reader's, so it is read again after any fix."""
    versions = {reader.FORMAT: int(getattr(reader, "VERSION", 1)) for reader in READERS}
    if fmt == zip_bundle.FORMAT:
        return sum(versions.values())
    return versions.get(fmt, 1)


def read(path: Path) -> Parsed:
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise UnreadableFile("the file is empty")
    reader = detect(head)
    parsed: Parsed = reader.read(path)
    if reader.FORMAT.endswith("_csv"):  # the text formats, read through csv_text.decode
        encoding = decoded_as(path)
        if encoding is not None:
            return replace(parsed, notes=replace(parsed.notes, decoded_as=encoding))
    return parsed


__all__ = ["READERS", "Parsed", "UnreadableFile", "detect", "read", "reader_version"]
