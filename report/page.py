"""The report page: current flags, charts per athlete and exercise, data quality, in one HTML
file with everything inline, so a coach can open it offline or mail it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from report.charts import ACTION_COLOURS, RECORD_COLOUR, exercise_chart
from report.data import ReportData, read
from rules.reasons import prescription
from warehouse.db import Warehouse

# Autoescape: athlete ids, exercise names and file paths come from users' files.
TEMPLATES = Environment(
    loader=PackageLoader("report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Chart:
    exercise_id: str
    sessions: int
    flags: list[dict[str, object]]  # the current flags of this athlete and exercise
    svg: str


@dataclass(frozen=True)
class Athlete:
    athlete_id: str
    charts: list[Chart]


@dataclass(frozen=True)
class Written:
    path: Path
    athletes: int
    charts: int


# Told each time a chart is drawn: how many are, of how many.
Drawn = Callable[[int, int], None]


def write_report(
    snapshot: Warehouse,
    out_dir: Path,
    athlete: str | None = None,
    drawn: Drawn | None = None,
    why_no_flags: str | None = None,
) -> Written:
    """Render the report of `snapshot` (or a lake; one athlete's, or everyone's) to
    out_dir/index.html; `why_no_flags` is shown in place of the flags when there are none."""
    data = read(snapshot, athlete)
    athletes = _athletes(data, drawn)
    html = TEMPLATES.get_template("report.html.j2").render(
        athletes=athletes,
        only=athlete,
        flags=_flag_rows(data.flags),
        why_no_flags=why_no_flags,
        quality=data.quality.to_dicts(),
        failed=data.failed.to_dicts(),
        unmapped=data.unmapped.to_dicts(),
        last_run=data.last_run,
        snapshot=snapshot.name if isinstance(snapshot, Path) else str(snapshot),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        colours=ACTION_COLOURS,
        record_colour=RECORD_COLOUR,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a coach with the page open never sees half a report
    return Written(path, len(athletes), sum(len(a.charts) for a in athletes))


def _flag_rows(flags: pl.DataFrame) -> list[dict[str, object]]:
    helped = pl.col("assisted")
    return flags.with_columns(
        now=prescription(
            pl.col("current_sets"), pl.col("current_reps"), pl.col("current_load_kg"), helped
        ),
        next=prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg"), helped),
    ).to_dicts()


def _athletes(data: ReportData, drawn: Drawn | None = None) -> list[Athlete]:
    """Athletes in id order, each with a chart per exercise (progress is sorted that way)."""
    flags: dict[tuple[str, str], list[dict[str, object]]] = {}
    for row in _flag_rows(data.flags):
        flags.setdefault((str(row["athlete_id"]), str(row["exercise_id"])), []).append(row)
    by_athlete = [
        sessions.partition_by("exercise_id", maintain_order=True)
        for sessions in data.progress.partition_by("athlete_id", maintain_order=True)
    ]
    frames = [frame for exercises in by_athlete for frame in exercises]
    ids = [f"c{n}-{i}" for n, exercises in enumerate(by_athlete) for i in range(len(exercises))]
    svgs = iter(_draw_all(frames, ids, drawn))
    athletes = []
    for exercises in by_athlete:
        athlete_id = exercises[0]["athlete_id"][0]
        charts = [
            Chart(
                exercise_id=frame["exercise_id"][0],
                sessions=frame.height,
                flags=flags.get((athlete_id, frame["exercise_id"][0]), []),
                svg=next(svgs),
            )
            for frame in exercises
        ]
        athletes.append(Athlete(athlete_id, charts))
    return athletes


# A chart takes matplotlib about 0.2 s, and a worker process about 2 s to start: past this many
# charts (a gym's report) they are drawn on every core.
PARALLEL_CHARTS = 40


def _draw_all(frames: list[pl.DataFrame], ids: list[str], drawn: Drawn | None) -> list[str]:
    """The SVG of each chart, in order."""
    workers = min(os.cpu_count() or 1, len(frames) // PARALLEL_CHARTS)
    with ExitStack() as stack:
        svgs: Iterator[str] = map(exercise_chart, frames, ids)
        if workers >= 2:
            # Spawned, not forked: polars and matplotlib keep threads a fork would copy broken.
            spawn = get_context("spawn")
            pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=spawn))
            svgs = pool.map(exercise_chart, frames, ids, chunksize=8)
        done = []
        for svg in svgs:
            done.append(svg)
            if drawn is not None:
                drawn(len(done), len(frames))
        return done
