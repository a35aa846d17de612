"""Parsing a batch of small files at once: each is read by its own reader (its structure, its
unit and date order), then all are validated together as one frame with a file column, so a
small file's fixed costs (the call chain, polars' set-up, the per-distinct-value checks) are
paid once per batch. Each file gets what parsing it alone, after the batch's earlier files were
stored, would give it. Nothing here imports Prefect."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

import sources
from flows import reexport
from flows.config import Config
from flows.parsing import (
    READING,
    ArrowFile,
    Deferred,
    EarlierReads,
    ParsedFile,
    athlete_named,
    fails_whole,
    parse_with,
    parsed_file,
    read_failure,
    read_hints,
)
from flows.reexport import StoredRows, row_seed
from schemas.row_hash import with_row_hashes
from schemas.set_row import RowContext
from schemas.validate import FILE, validate, with_folder_athlete
from sources import content, timestamps, units
from sources.base import Decisions, Earlier, Parsed, ReadHints
from sources.content import ChangedWhileRead, Content, LongLine, Source
from warehouse.db import target
from warehouse.frames import each_row
from warehouse.stored_lines import stored_lines

Reading = Callable[[int], None]


# Per file of the batch being parsed in this process, in order: its READING reporter, if any.
# A context variable, as READING is: the parse step's parameters are data.
READING_EACH: ContextVar[Sequence[Reading | None] | None] = ContextVar("READING_EACH", default=None)


@dataclass(frozen=True)
class ToParse:
    """One file of a batch: what it holds as read, whose it is, and its hints as the warehouse
    stood before the batch (the batch's own earlier files are added by `parse_many`)."""

    source: Source
    athlete_id: str | None
    hints: ReadHints
    long_line: LongLine | None = None
    reading: Reading | None = None  # told how far a large file is read (parsing.READING)


def parse_batch(
    reads: Sequence[tuple[Content, str | None]], config: Config
) -> list[ParsedFile | str]:
    """`parsing.parse` of several files, each as it was read, in file order."""
    settings = config.settings
    with stored_lines(target(settings)) as stored:
        earlier = {athlete: EarlierReads(stored, athlete) for _, athlete in reads}
        reading = READING_EACH.get() or [None] * len(reads)
        files = [
            ToParse(
                read.source(),
                athlete,
                read_hints(settings, athlete, earlier[athlete]),
                read.long_line,
                told,
            )
            for (read, athlete), told in zip(reads, reading, strict=True)
        ]
        return parse_many(files, settings.row_context(), stored)


def parse_batch_to_arrow(
    paths: Sequence[tuple[str, str | None, ReadHints, str]], context: RowContext
) -> list[ArrowFile | str]:
    """`parse_batch` for a worker process or host: each file by a path every worker can read,
    its athlete, its hints and the sha256 the writer read there. Bytes other than those hashed
    are Deferred, not parsed; the rest come back as Arrow tables."""
    results: list[ArrowFile | str] = []
    with tempfile.TemporaryDirectory(prefix="repflow-read-") as folder:
        files: list[tuple[int, ToParse]] = []
        for n, (path, athlete, hints, sha256) in enumerate(paths):
            try:
                read = content.read(Path(path), None, keep=True, copy_to=Path(folder))
            except ChangedWhileRead as exc:
                results.append(Deferred(f"changed while it was read: {exc}"))
                continue
            if read.sha256 != sha256:
                results.append(Deferred("changed while it was read: its bytes are not those found"))
                continue
            results.append("")
            files.append((n, ToParse(read.source(), athlete, hints, read.long_line)))
        parsed = parse_many([file for _, file in files], context, None)
        for (n, _), result in zip(files, parsed, strict=True):
            results[n] = result if isinstance(result, str) else ArrowFile.of(result)
    return results


def parse_many(
    files: Sequence[ToParse],
    context: RowContext,
    stored: StoredRows | None,
    decided: Decided | None = None,
) -> list[ParsedFile | str]:
    """Each file read in turn, with the decisions of the batch's earlier files of its athlete
    (`decided`), and the small ones validated together. A file that decided something for its
    athlete's later files and then fails takes its decision back: those files are read again."""
    decided = Decided() if decided is None else decided.copy()
    if len(files) == 1:  # nothing to share: the file alone
        return [
            _alone(files[0], decided.hints(files[0].hints, files[0].athlete_id), context, stored)
        ]
    results: list[ParsedFile | str | None] = [None] * len(files)
    together: list[tuple[int, Parsed]] = []
    deciding: dict[int, Decided] = {}  # a file that decides for later ones: what was before it
    # Small files of a format that takes no hints are read at once; the rest one by one, below.
    read = sources.read_together([(file.source, file.long_line) for file in files])
    for n, file in enumerate(files):
        hints = decided.hints(file.hints, file.athlete_id)
        try:
            parsed = read[n]
            if isinstance(parsed, Exception):
                raise parsed
            if parsed is None:
                parsed = sources.read(file.source, hints, file.long_line)
            athlete_named(parsed, file.athlete_id)
            more = next(parsed.more, None)
        except OSError:  # the bytes were read already: a full disk, the run's, as in parse_with
            raise
        except Exception as exc:  # fails alone, as parse_with would say
            results[n] = read_failure(exc)
            continue
        before = decided.copy()
        if decided.add(file.athlete_id, parsed.format, parsed.decisions):
            deciding[n] = before
        if more is not None or parsed.rows.height >= reexport.MIN_ROWS:  # not small: alone
            results[n] = _alone(file, hints, context, stored)
            continue
        together.append((n, parsed))
    _validate_together(together, files, decided, context, stored, results)
    done = [result if result is not None else "internal error: not parsed" for result in results]
    for n, result in enumerate(done):
        if isinstance(result, str) and n in deciding:
            # Read again as they would be once the files before this one are stored.
            again = parse_many(files[n + 1 :], context, stored, deciding[n])
            return done[: n + 1] + again
    return done


def _alone(
    file: ToParse, hints: ReadHints, context: RowContext, stored: StoredRows | None
) -> ParsedFile | str:
    """`parsing.parse_with` of one file, its progress told to its own reporter."""
    token = READING.set(file.reading)
    try:
        return parse_with(file.source, file.athlete_id, context, hints, stored, file.long_line)
    finally:
        READING.reset(token)


def _validate_together(
    together: list[tuple[int, Parsed]],
    files: Sequence[ToParse],
    decided: Decided,
    context: RowContext,
    stored: StoredRows | None,
    results: list[ParsedFile | str | None],
) -> None:
    if not together:
        return
    try:
        frame = _as_one(together, files, context)
        validated = validate(frame, context, None)
    except OSError:
        raise
    except Exception:  # one file's rows broke the batch: each file alone, so that one fails
        for n, _ in together:
            file = files[n]
            hints = decided.hints(file.hints, file.athlete_id)
            results[n] = parse_with(
                file.source, file.athlete_id, context, hints, stored, file.long_line
            )
        return
    sets = _by_file(validated.sets)
    rejects = _by_file(validated.rejects)
    for n, parsed in together:
        own_sets, own_rejects = sets.get(n, sets[-1]), rejects.get(n, rejects[-1])
        try:
            fails_whole(own_sets.height, own_rejects)
        except Exception as exc:
            results[n] = read_failure(exc)
            continue
        results[n] = parsed_file(parsed, own_sets, own_rejects)


def _as_one(
    together: list[tuple[int, Parsed]], files: Sequence[ToParse], context: RowContext
) -> pl.DataFrame:
    """The files' rows as one frame, in file order, each row with its file's place (FILE), the
    hashes of its text and its folder's athlete: as each file alone would have them. Files
    read the same way (one seed: athlete and format; the same columns) are hashed together."""
    alike: dict[tuple[bytes, tuple[str, ...]], list[tuple[int, pl.DataFrame]]] = {}
    for n, parsed in together:
        seed = row_seed(context, files[n].athlete_id, parsed.format)
        alike.setdefault((seed, tuple(parsed.rows.columns)), []).append((n, parsed.rows))
    frames = []
    for (seed, _), own in alike.items():
        rows = with_row_hashes(pl.concat([rows for _, rows in own]), seed)
        place = each_row([n for n, _ in own], [rows.height for _, rows in own], FILE, pl.Int64)
        athlete = files[own[0][0]].athlete_id  # the seed's: one athlete a group
        frames.append(with_folder_athlete(rows.with_columns(place), athlete))
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.sort(FILE, maintain_order=True) if len(frames) > 1 else frame


def _by_file(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """Each file's rows, by its place in the batch; -1: none (an empty frame of the columns)."""
    parts = frame.partition_by(FILE, as_dict=True, include_key=False, maintain_order=True)
    found = {int(key[0]): part for key, part in parts.items()}
    return {**found, -1: frame.clear().drop(FILE)}


class Decided:
    """Per athlete and format, what the batch's earlier files decided for the later ones: what
    `warehouse.ingested.EARLIER_READS` would find once they are stored. A unit inferred, and a
    day/month order shown, carry over (`units.STICKY`, `timestamps.STICKY`)."""

    def __init__(self, by: dict[tuple[str | None, str], dict[str, str | None]] | None = None):
        self._by = by or {}

    def copy(self) -> Decided:
        return Decided({key: dict(value) for key, value in self._by.items()})

    def add(self, athlete: str | None, fmt: str, decisions: Decisions) -> bool:
        """Note a file's decisions; whether it decided anything for later files."""
        found: dict[str, str | None] = {}
        if decisions.unit_source in units.STICKY:
            found["unit"] = decisions.unit
        if decisions.date_order_source in timestamps.STICKY:
            found["date_order"] = decisions.date_order
        if found:
            self._by.setdefault((athlete, fmt), {}).update(found)
        return bool(found)

    def hints(self, hints: ReadHints, athlete: str | None) -> ReadHints:
        own = {fmt: part for (who, fmt), part in self._by.items() if who == athlete}
        if not own:
            return hints
        return replace(hints, earlier_files=_Overlaid(hints.earlier_files, own))


class _Overlaid(Mapping[str, Earlier]):
    """The stored earlier reads, with the batch's newer decisions over them."""

    def __init__(self, stored: Mapping[str, Earlier], newer: dict[str, dict[str, str | None]]):
        self._stored = stored
        self._newer = newer

    def _get(self, fmt: str) -> Earlier | None:
        newer = self._newer.get(fmt)
        if newer is None:
            return self._stored.get(fmt)
        base = self._stored.get(fmt) or Earlier()
        earlier = replace(base, **newer)
        return earlier if earlier.unit or earlier.date_order else None

    def __getitem__(self, fmt: str) -> Earlier:
        earlier = self._get(fmt)
        if earlier is None:
            raise KeyError(fmt)
        return earlier

    def __iter__(self) -> Iterator[str]:
        formats = {*self._stored, *self._newer}
        return iter(sorted(fmt for fmt in formats if self._get(fmt) is not None))

    def __len__(self) -> int:
        return sum(1 for _ in self)
