"""What every reader returns: canonical text columns, ready for the `SetRow` contract."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain

import polars as pl

# The text columns a reader may fill, named as `SetRow`'s fields; a reader leaves out the rest.
CANONICAL_COLUMNS = (
    "athlete_id",
    "session_id",
    "performed_at",
    "exercise",
    "set_index",
    "set_type",
    "reps",
    "load",
    "unit",
    "rpe",
    "rir",
    "duration_s",
    "distance_m",
    "device_id",
    "target_reps",
    "rest_s",
)
# Bookkeeping columns every reader fills: where the row came from, its raw text, and why its
# structure is broken (null when it is not).
TRACE_COLUMNS = ("source_line", "raw", "structure_error")
# Readers of one-workout-at-a-time formats give the workout's start, to derive the session id.
SESSION_KEY = "session_key"
# App readers mark `lb` where the load is written in kg but the lifter loads in lb (sources.sets).
LIFTER_UNIT = "lifter_unit"
TEXT_SCHEMA = {
    "source_line": pl.Int64,
    **{
        name: pl.String
        for name in (*TRACE_COLUMNS[1:], SESSION_KEY, LIFTER_UNIT, *CANONICAL_COLUMNS)
    },
}


# Muscle groups a file gives per exercise, as written (GymBook, FitNotes, Liftosaur): `role` is
# primary, secondary, or category (an app's body-part category, coarser than a muscle).
MUSCLE_SCHEMA = {"exercise": pl.String, "role": pl.String, "muscle_group": pl.String}


def text_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Rows built one message at a time (JSON, FIT) as a frame of canonical text columns."""
    return pl.DataFrame(rows, schema=TEXT_SCHEMA)


@dataclass(frozen=True)
class Notes:
    """What a person should know of how a file was read, beside its rows: listed in the run's
    summary, not stored. The names match `warehouse.load.FileOutcome`'s fields."""

    ignored: tuple[str, ...] = ()  # members of a bundle ignored as junk (sources.junk)
    unknown: tuple[str, ...] = ()  # members of a bundle in no known format, with why
    decoded_as: str | None = None  # an encoding other than UTF-8 the text was read in


@dataclass(frozen=True)
class Earlier:
    """What this athlete's earlier files of one format were read in, where they said nothing
    and it was decided for them (a unit from their loads, a day/month order from their
    dates): a file that does not say either way is read as they were."""

    unit: str | None = None
    date_order: str | None = None


@dataclass(frozen=True)
class ReadHints:
    """What a reader uses where the file says nothing (DESIGN.md, "Sources"): the athlete's
    settings, and per format what the athlete's earlier files were read in."""

    unit: str = "kg"  # the athlete's `unit` setting: the last resort
    file_unit: str | None = None  # the athlete's `file_unit`: an operator's fix, always wins
    date_order: str | None = None  # the athlete's `date_order` setting (dmy, mdy)
    earlier_files: Mapping[str, Earlier] = field(default_factory=dict)  # by format

    def earlier(self, fmt: str) -> Earlier:
        return self.earlier_files.get(fmt, Earlier())


@dataclass(frozen=True)
class Decisions:
    """What was decided for a file that did not say: the unit its loads are read in and the
    order of its day and month, each with its source. Stored with the file in ingested_files
    (the names are its columns) and listed in the run's summary."""

    unit: str | None = None  # kg or lb; None when the file states different units per row
    unit_source: str | None = None  # file_unit, file, loads, earlier_files or setting
    unit_evidence: str | None = None  # the sentence saying what was decided, and from what
    date_order: str | None = None  # dmy or mdy; None when no date is written in numbers
    date_order_source: str | None = None  # file, earlier_files, setting or undecided


@dataclass(frozen=True)
class Parsed:
    """A file read into rows. `skipped` counts pseudo-rows that are not sets (rest timers).

    A large file comes in batches: `rows` is the first, `more` yields the rest, once."""

    format: str
    rows: pl.DataFrame
    skipped: int = 0
    names_athletes: bool = False
    machines: pl.DataFrame | None = None  # connected machines the file describes
    # Per-rep data of machines that record it, by the `source_line` of the set (rep_metrics)
    rep_metrics: pl.DataFrame | None = None
    notes: Notes = Notes()
    decisions: Decisions = Decisions()
    muscles: pl.DataFrame | None = None  # muscle groups the file gives (MUSCLE_SCHEMA)
    more: Iterator[pl.DataFrame] = field(default_factory=lambda: iter(()))

    def batches(self) -> Iterator[pl.DataFrame]:
        return chain([self.rows], self.more)

    def whole(self) -> pl.DataFrame:
        """Every row at once, for callers that need the file in one frame (a zip bundle)."""
        return pl.concat(list(self.batches()))
