"""Zip bundles of any other format (a Garmin bulk export is a zip of FIT files).

Members are read in name order by their own readers, and their rows keep their own format, so
a FIT file deduplicates the same whether it came loose or zipped. Junk members (`__MACOSX/`,
`.DS_Store`) are ignored (sources.junk). Guards: member names that
climb out (`../`), absolute names, more than MAX_TOTAL_BYTES uncompressed or a compression
ratio above MAX_RATIO (a zip bomb), and zips inside the zip each fail the whole file.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from types import ModuleType

import polars as pl

from sources import junk
from sources.base import Decisions, Notes, Parsed, ReadHints
from sources.content import Scan, Source
from sources.csv_text import UnreadableFile

FORMAT = "zip_bundle"
MAGIC = b"PK\x03\x04"
MAX_TOTAL_BYTES = 1 << 30
MAX_RATIO = 200
MAX_MEMBERS = 10_000
CHUNK = 1 << 20


def detect(head: bytes) -> bool:
    return head.startswith(MAGIC)


def _check(archive: zipfile.ZipFile) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """The members to read, in name order, and the names of those ignored as junk
    (`__MACOSX/`, `.DS_Store`). Junk is left out after every name has been checked, so a member
    that climbs out fails the file even in a junk folder."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    if len(members) > MAX_MEMBERS:
        raise UnreadableFile(f"zip with {len(members)} members (at most {MAX_MEMBERS})")
    for member in members:
        name = PurePosixPath(member.filename.replace("\\", "/"))
        if name.is_absolute() or ".." in name.parts:
            raise UnreadableFile(f"zip member {member.filename!r} points outside the bundle")
    declared = sum(m.file_size for m in members)
    if declared > MAX_TOTAL_BYTES:
        raise UnreadableFile(f"zip would unpack to {declared} bytes (at most {MAX_TOTAL_BYTES})")
    kept = [m for m in members if not junk.ignored_path(m.filename)]
    ignored = sorted(m.filename for m in members if junk.ignored_path(m.filename))
    return sorted(kept, key=lambda m: m.filename), ignored


def _extract(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, used: int) -> int:
    """Copy one member out, counting real bytes: a lying header cannot pass the limits. Members
    are read whole, so a line over the limit fails the bundle (sources.content)."""
    written = 0
    scan = Scan()
    with archive.open(member) as source, target.open("wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if used + written > MAX_TOTAL_BYTES:
                raise UnreadableFile(f"zip unpacks to more than {MAX_TOTAL_BYTES} bytes")
            if written > MAX_RATIO * max(member.compress_size, 1) and written > CHUNK:
                raise UnreadableFile(
                    f"zip member {member.filename!r} expands more than {MAX_RATIO}x: a zip bomb"
                )
            scan.add(chunk)
            if scan.long is not None:
                raise UnreadableFile(f"zip member {member.filename!r}: {scan.long}")
            sink.write(chunk)
    return written


def read(path: Source, hints: ReadHints) -> Parsed:
    # The registry imports this module, so the members' readers are looked up at call time.
    from sources import HEAD_BYTES, describe
    from sources import detect as detect_format

    try:
        archive = zipfile.ZipFile(path if isinstance(path, Path) else path.open("rb"))
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(f"not a readable zip: {exc}") from None
    parts: list[pl.DataFrame] = []
    machines: list[pl.DataFrame] = []
    muscles: list[pl.DataFrame] = []
    decided: list[tuple[str, Decisions]] = []
    reps: list[pl.DataFrame] = []
    formats: set[str] = set()
    skipped, used, offset, names_athletes = 0, 0, 0, False
    with archive, tempfile.TemporaryDirectory(prefix="repflow-zip-") as folder:
        members, ignored = _check(archive)
        unknown: list[str] = []
        for number, member in enumerate(members):
            target = Path(folder) / f"member-{number}"  # never the member's own name
            used += _extract(archive, member, target, used)
            head = target.read_bytes()[:HEAD_BYTES]
            if detect(head):
                raise UnreadableFile(f"zip member {member.filename!r} is itself a zip")
            try:
                reader: ModuleType = detect_format(head)
            except UnreadableFile:  # a bundle may carry summaries and readmes
                unknown.append(f"{member.filename} ({describe(head)})")
                continue
            parsed = reader.read(target, hints)
            formats.add(parsed.format)
            rows = parsed.whole().with_columns(
                pl.col("source_line").cast(pl.Int64) + offset,
                pl.lit(parsed.format).alias("source_format"),
                pl.concat_str([pl.lit(f"{member.filename}: "), pl.col("raw")]).alias("raw"),
            )
            if parsed.rep_metrics is not None:  # by the set's line, shifted as the set's
                reps.append(parsed.rep_metrics.with_columns(pl.col("source_line") + offset))
            offset = int(rows["source_line"].max() or offset)
            parts.append(rows)
            skipped += parsed.skipped
            names_athletes |= parsed.names_athletes
            if parsed.machines is not None:
                machines.append(parsed.machines)
            if parsed.muscles is not None:
                muscles.append(parsed.muscles)
            decided.append((member.filename, parsed.decisions))
    if not parts:
        raise UnreadableFile("a zip with no member in a known format")
    return Parsed(
        format=formats.pop() if len(formats) == 1 else FORMAT,
        rows=pl.concat(parts, how="diagonal_relaxed"),
        skipped=skipped,
        names_athletes=names_athletes,
        machines=pl.concat(machines) if machines else None,
        rep_metrics=pl.concat(reps) if reps else None,
        notes=Notes(ignored=tuple(ignored), unknown=tuple(unknown)),
        decisions=_decided(decided),
        muscles=pl.concat(muscles).unique(maintain_order=True) if muscles else None,
    )


def _decided(members: list[tuple[str, Decisions]]) -> Decisions:
    """What was decided for the members: one member's as it is; for several, what they agree
    on, and each member's evidence with its name."""
    if len(members) == 1:
        return members[0][1]

    def agreed(name: str) -> str | None:
        values = {getattr(decisions, name) for _, decisions in members}
        return values.pop() if len(values) == 1 else None

    evidence = "; ".join(f"{name}: {d.unit_evidence}" for name, d in members if d.unit_evidence)
    return Decisions(
        unit=agreed("unit"),
        unit_source=agreed("unit_source"),
        unit_evidence=evidence or None,
        date_order=agreed("date_order"),
        date_order_source=agreed("date_order_source"),
    )
