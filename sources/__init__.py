"""Readers, one module per input format, each with `FORMAT`, `VERSION`, `detect(head)` and
`read(path, hints)`.

The registry below is the one list of formats: a new format is one module and one line here.
Detection looks at the content (a header signature, magic bytes), never at the file name.
A reader's `VERSION` goes up when a fix changes what it stores from the same bytes: sets then
changed are corrections, and `repflow reload` re-reads the files an older version read.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace
from types import ModuleType

from sources import (
    alpha_progression_csv,
    canonical_csv,
    csv_text,
    fitbod_csv,
    fitnotes_csv,
    garmin_fit,
    gymbook_csv,
    hevy_csv,
    jefit_csv,
    liftosaur_csv,
    machine_json,
    speediance_json,
    strong_csv,
    stronglifts_csv,
    zip_bundle,
)
from sources.base import Parsed, ReadHints
from sources.content import LongLine, Source
from sources.csv_text import UnreadableFile, decoded_as

# Binary formats first: they are known by their magic bytes, which no text format can start with,
# and a zip stored uncompressed holds readable CSV that a text format might claim.
READERS: tuple[ModuleType, ...] = (
    zip_bundle,
    garmin_fit,
    canonical_csv,
    strong_csv,
    hevy_csv,
    fitnotes_csv,
    fitbod_csv,
    jefit_csv,
    alpha_progression_csv,
    liftosaur_csv,
    gymbook_csv,
    stronglifts_csv,
    machine_json,
    speediance_json,
)
HEAD_BYTES = 64 * 1024
# The text formats read whole, where one line can take the memory of many (sources.content).
WHOLE_TEXT = tuple(r for r in READERS if r.FORMAT.endswith("_csv") and r is not canonical_csv)
WHOLE_TEXT += (machine_json, speediance_json)


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


def read(path: Source, hints: ReadHints | None = None, long_line: LongLine | None = None) -> Parsed:
    """`path` read by the reader of its format. `hints` say what to read in where the file
    says nothing (a unit, a day/month order): the athlete's settings and earlier files.
    `long_line`, a line over the limit found as the file was read (sources.content), fails a
    text file that is read whole; a canonical CSV is read in batches and rejects that line
    alone."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head:
        raise UnreadableFile("the file is empty")
    reader = detect(head)
    if long_line is not None and reader in WHOLE_TEXT:
        raise UnreadableFile(f"{long_line}: the file is not read")
    parsed: Parsed = reader.read(path, hints or ReadHints())
    if reader.FORMAT.endswith("_csv"):  # the text formats, read through csv_text.decode
        encoding = decoded_as(path)
        if encoding is not None:
            return replace(parsed, notes=replace(parsed.notes, decoded_as=encoding))
    return parsed


def read_together(
    files: Sequence[tuple[Source, LongLine | None]],
) -> list[Parsed | Exception | None]:
    """What `read` gives each small file of a format read many at once (a reader with
    `read_many`, which takes no hints), for all of them in one call; None for every other file,
    to be read alone. A file's failure is its entry; an OSError is raised, as `read` raises it."""
    done: list[Parsed | Exception | None] = [None] * len(files)
    texts: dict[ModuleType, list[tuple[int, str]]] = {}
    for n, (source, long_line) in enumerate(files):
        with source.open("rb") as handle:
            data = handle.read(csv_text.BATCH_BYTES)
        reader = _reads_many(data, long_line)
        # Not all UTF-8: read alone, which notes the fallback encoding.
        with contextlib.suppress(UnicodeDecodeError):
            if reader is not None:
                texts.setdefault(reader, []).append((n, data.decode("utf-8-sig")))
    for reader, own in texts.items():
        for (n, _), parsed in zip(own, reader.read_many([text for _, text in own]), strict=True):
            done[n] = parsed
    return done


def _reads_many(data: bytes, long_line: LongLine | None) -> ModuleType | None:
    # A text under a batch's size is one piece to csv_text (read in turn, not at import: tests
    # make batches small), and may be read with others.
    if long_line is not None or len(data) >= csv_text.BATCH_BYTES or not data:
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: read alone
        return None
    try:
        reader = detect(data[:HEAD_BYTES])
    except UnreadableFile:
        return None
    return reader if hasattr(reader, "read_many") else None


__all__ = [
    "READERS",
    "Parsed",
    "ReadHints",
    "UnreadableFile",
    "detect",
    "read",
    "read_together",
    "reader_version",
]
