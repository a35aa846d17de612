"""The report page: a short summary first (per athlete, what to change next session), then
charts per athlete grouped by muscle, then data quality, in one HTML file with everything
inline, so a coach can open it offline or mail it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from report.charts import ACTION_COLOURS, RECORD_COLOUR, exercise_chart, histories
from report.data import ReportData, read
from rules.reasons import prescription
from schemas.config_files import ProgramsFile
from warehouse.db import Warehouse

# Autoescape: athlete ids, exercise names and file paths come from users' files.
TEMPLATES = Environment(
    loader=PackageLoader("report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# The summary's lines, in the order a coach reads them: steps back first, then steps forward,
# then what stays, then advice; each with what it asks of the next session.
ACTIONS = {
    "deload": "Take weight off and build back up",
    "resume": "Back after a break: start lighter",
    "raise_load": "Add load",
    "raise_sets": "Add a set",
    "raise_reps": "Add reps",
    "hold": "Repeat the target",
    "do_first": "Do it first in the session",
    "train_more_often": "Train it more often",
    "record": "New best",
}
# Items a summary line names before "and N more", which opens on a click.
SHOWN = 4
# Muscle groups in the order of a body's regions (the catalog's names); others follow by name.
MUSCLES = (
    "chest",
    "shoulders",
    "triceps",
    "biceps",
    "forearms",
    "lats",
    "middle back",
    "traps",
    "lower back",
    "abdominals",
    "quadriceps",
    "hamstrings",
    "glutes",
    "adductors",
    "abductors",
    "calves",
    "neck",
)
OTHER = "other"


@dataclass(frozen=True)
class Chart:
    anchor: str
    exercise_id: str
    name: str
    sessions: int
    last_session: date
    flags: list[dict[str, object]]  # the current flags of this athlete and exercise
    svg: str


@dataclass(frozen=True)
class Group:
    muscle: str
    charts: list[Chart]


@dataclass(frozen=True)
class Item:
    name: str
    text: str  # the prescription the line asks for, in the athlete's unit; "" for advice
    anchor: str | None  # the chart's, when the exercise has one


@dataclass(frozen=True)
class Line:
    action: str
    kind: str
    words: str
    items: list[Item]


@dataclass(frozen=True)
class Athlete:
    athlete_id: str
    anchor: str
    last_session: date
    summary: list[Line]
    groups: list[Group]


@dataclass(frozen=True)
class Written:
    path: Path
    athletes: int
    charts: int
    bytes: int


# Told each time a chart is drawn: how many are, of how many.
Drawn = Callable[[int, int], None]


def write_report(
    snapshot: Warehouse,
    out_dir: Path,
    programs: ProgramsFile,
    today: date,
    athlete: str | None = None,
    drawn: Drawn | None = None,
) -> Written:
    """Render the report of `snapshot` (or a lake; one athlete's, or everyone's) to
    out_dir/index.html. `programs` say each exercise's dormant_days; `today` stands in for the
    flags' date when there are no flags yet."""
    data = read(snapshot, programs, today, athlete)
    athletes = _athletes(data, drawn)
    html = TEMPLATES.get_template("report.html.j2").render(
        athletes=athletes,
        only=athlete,
        flags_as_of=data.flags_as_of,
        window_end=data.window_end,
        dormant_days=programs.programs["default"].dormant_days,
        left_out=data.left_out,
        quality=data.quality.to_dicts(),
        failed=data.failed.to_dicts(),
        unmapped=data.unmapped.to_dicts(),
        last_run=data.last_run,
        snapshot=snapshot.name if isinstance(snapshot, Path) else str(snapshot),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        colours=ACTION_COLOURS,
        record_colour=RECORD_COLOUR,
        words=ACTIONS,
        shown=SHOWN,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a coach with the page open never sees half a report
    charts = sum(len(g.charts) for a in athletes for g in a.groups)
    return Written(path, len(athletes), charts, path.stat().st_size)


def _flag_rows(data: ReportData) -> pl.DataFrame:
    """The current flags with their exercise's name and both prescriptions as text."""
    return data.flags.join(
        data.exercises.select("athlete_id", "exercise_id", "name"),
        on=["athlete_id", "exercise_id"],
        how="left",
    ).with_columns(
        pl.col("name").fill_null(pl.col("exercise_id")),
        now=prescription(pl.col("current_sets"), pl.col("current_reps"), pl.col("current_load_kg")),
        next=prescription(pl.col("next_sets"), pl.col("next_reps"), pl.col("next_load_kg")),
    )


def _athletes(data: ReportData, drawn: Drawn | None = None) -> list[Athlete]:
    """Athletes in id order, each with a summary of their flags and a chart per charted
    exercise, grouped by muscle."""
    flags = _flag_rows(data)
    by_pair: dict[tuple[str, str], list[dict[str, object]]] = {}
    for row in flags.iter_rows(named=True):
        by_pair.setdefault((row["athlete_id"], row["exercise_id"]), []).append(row)
    catalog = {
        (row["athlete_id"], row["exercise_id"]): row for row in data.exercises.iter_rows(named=True)
    }
    pairs = histories(data.progress)
    charts: dict[str, list[tuple[str, Chart]]] = {}
    for n, history in enumerate(pairs, start=1):
        athlete_id, exercise_id = history.athlete_id, history.exercise_id
        about = catalog[(athlete_id, exercise_id)]
        anchor = f"c{n}"
        chart = Chart(
            anchor=anchor,
            exercise_id=exercise_id,
            name=about["name"],
            sessions=len(history.days),
            last_session=history.days[-1],
            flags=by_pair.get((athlete_id, exercise_id), []),
            svg=exercise_chart(history, anchor, assisted=about["assisted"]),
        )
        charts.setdefault(athlete_id, []).append((about["muscle"] or OTHER, chart))
        if drawn is not None:
            drawn(n, len(pairs))
    anchors = {
        (athlete_id, chart.exercise_id): chart.anchor
        for athlete_id, drawn_charts in charts.items()
        for _, chart in drawn_charts
    }
    own: dict[str, list[dict[str, object]]] = {}
    for row in flags.sort("name").iter_rows(named=True):
        own.setdefault(row["athlete_id"], []).append(row)
    return [
        Athlete(
            athlete_id=athlete_id,
            anchor=f"athlete-{n}",
            last_session=last_session,
            summary=_summary(own.get(athlete_id, []), athlete_id, anchors),
            groups=_groups(charts.get(athlete_id, [])),
        )
        for n, (athlete_id, last_session) in enumerate(data.athletes.iter_rows(), start=1)
    ]


def _summary(
    flags: list[dict[str, object]], athlete_id: str, anchors: dict[tuple[str, str], str]
) -> list[Line]:
    """One line per action, in ACTIONS order, naming each exercise (flags come by name) and
    what to do next."""
    lines = []
    for action, words in ACTIONS.items():
        rows = [row for row in flags if row["action"] == action]
        if not rows:
            continue
        items = [
            Item(
                name=str(row["name"]),
                text=_item_text(row),
                anchor=anchors.get((athlete_id, str(row["exercise_id"]))),
            )
            for row in rows
        ]
        lines.append(Line(action, str(rows[0]["kind"]), words, items))
    return lines


def _item_text(row: dict[str, object]) -> str:
    if row["action"] == "record":
        return str(row["now"] or "")
    if row["kind"] == "advice":
        return ""
    return str(row["next"] or "")


def _groups(charts: list[tuple[str, Chart]]) -> list[Group]:
    """Charts by muscle (body order, then others by name, `other` last); within a muscle the
    most recently trained first."""

    def rank(muscle: str) -> tuple[int, str]:
        if muscle in MUSCLES:
            return MUSCLES.index(muscle), ""
        return len(MUSCLES) + (muscle == OTHER), muscle

    muscles = sorted({muscle for muscle, _ in charts}, key=rank)
    return [
        Group(
            muscle=muscle,
            charts=sorted(
                (chart for m, chart in charts if m == muscle),
                key=lambda chart: (-chart.last_session.toordinal(), chart.name.lower()),
            ),
        )
        for muscle in muscles
    ]
