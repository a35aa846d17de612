"""Liftosaur's history CSV (the app's `History_exportAsCSV`): one row per planned set.

Per workout and exercise, the warm-ups come first, then the working sets. `Workout DateTime` is
the workout's start in UTC (`2026-11-03T18:05:11.000Z`); booleans are `1`/`0`; names carry their
equipment after a comma (`"Bench Press, Barbell"`), quoted as any field with a comma, a quote or
a line break. A planned set that was not done has no `Completed Reps`. `Target Muscles` and
`Synergist Muscles` (`chest,triceps`) are kept as each exercise's primary and secondary groups.
"""

from __future__ import annotations

import polars as pl

from sources import muscles, sets, timestamps, units
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import blank, find, scaled, text
from sources.content import Source
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "liftosaur_csv"
# 2: timestamps in every form (`2026-03-07 09:01:00 +00:00`) through sources.timestamps; the
# target and synergist muscles kept.
VERSION = 2
SIGNATURE = (
    "workout datetime",
    "exercise",
    "is warmup set?",
    "completed reps",
    "completed weight value",
)


def detect(head: bytes) -> bool:
    names = set(header_names(first_line(head), ","))
    return all(name in names for name in SIGNATURE)


def read(path: Source, hints: ReadHints) -> Parsed:
    table = read_table(path.read_bytes(), ",")
    header = table.header
    if find(header, "completed reps") is None or find(header, "workout datetime") is None:
        raise UnreadableFile("a Liftosaur export without Workout DateTime or Completed Reps")
    start = text(find(header, "workout datetime"))
    started = table.rows[find(header, "workout datetime") or ""]
    dates = timestamps.decide_order(started, hints, FORMAT)
    warmup = text(find(header, "is warmup set?"))
    done_weight = text(find(header, "completed weight value"))
    # A done set without a completed weight was lifted at the planned one: the app's own
    # migration fills `completedWeight` from `weight` the same way.
    planned = blank(done_weight)
    load = pl.when(planned).then(text(find(header, "required weight value"))).otherwise(done_weight)
    unit = (
        pl.when(planned)
        .then(text(find(header, "required weight unit")))
        .otherwise(text(find(header, "completed weight unit")))
    )
    frame = table.rows.select(
        *TRACE_COLUMNS,
        # Every set of a workout carries its start, to the millisecond, in UTC: the session key
        # and the time of each set. `Completed Reps Time` (when the set was ticked done) is not
        # used: re-ticking a set in an edited workout restamps it, which would re-key the set.
        **{SESSION_KEY: start},
        performed_at=timestamps.iso(started, dates.order),
        exercise=text(find(header, "exercise")),
        set_type=sets.warmup_flag(warmup),
        # An AMRAP set is a working set; its completed reps are the reps done.
        reps=text(find(header, "completed reps")),
        load=scaled(load, 1.0),
        unit=pl.when(blank(unit)).then(pl.lit(None, pl.String)).otherwise(unit),
        # `Required RPE` is the plan; only the RPE the lifter logged counts.
        rpe=text(find(header, "completed rpe")),
        target=text(find(header, "target muscles")),
        synergist=text(find(header, "synergist muscles")),
    )
    # A planned set not done (no completed reps, or 0) is not a set.
    rows, skipped = sets.only_sets(frame.drop("target", "synergist"))
    read_in, decided = units.resolve(sets.numbered(rows), hints, FORMAT)
    return Parsed(
        format=FORMAT,
        rows=read_in,
        skipped=skipped,
        decisions=dates.on(decided),
        muscles=muscles.given(frame, {"target": muscles.PRIMARY, "synergist": muscles.SECONDARY}),
    )
