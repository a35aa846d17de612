"""What every reader returns: canonical text columns, ready for the `SetRow` contract."""

from __future__ import annotations

from collections.abc import Iterator
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
    more: Iterator[pl.DataFrame] = field(default_factory=lambda: iter(()))

    def batches(self) -> Iterator[pl.DataFrame]:
        return chain([self.rows], self.more)

    def whole(self) -> pl.DataFrame:
        """Every row at once, for callers that need the file in one frame (a zip bundle)."""
        return pl.concat(list(self.batches()))
