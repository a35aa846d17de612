"""Charts of one athlete's exercise over time, written directly as small inline SVG.

Three panels share the date axis: top load (in the athlete's unit, with the e1RM beside it),
reps per working set, and working sets. Each session that produced a flag gets a marker in the
flag's colour on every panel, and the load panel spells out each raise_load, deload and resume
and the latest flag. A session that set a record (a new best estimated 1RM) gets a star.

Written by hand rather than with matplotlib: a matplotlib chart is at least 21 KB of SVG and
0.2 s to draw, so 265 charts made a page over 5 MB and most of a minute; this one is a few KB
and about a millisecond.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import polars as pl

from rules.reasons import prescription
from schemas.set_row import LB_TO_KG

# Colours of the flag actions, shared with the page's legend and tables.
ACTION_COLOURS = {
    "raise_load": "#c0392b",
    "raise_sets": "#8e44ad",
    "raise_reps": "#2471a3",
    "hold": "#7f8c8d",
    "deload": "#a04000",
    "resume": "#138d75",
}
RECORD_COLOUR = "#d4ac0d"
# The flags the load panel names wherever they are: a change of load, up or down.
SPELLED_OUT = ("raise_load", "deload", "resume")
LINE = "#1f2d3d"
DOTS = "#aab7c4"
BAR = "#8796a5"  # the working-sets bars; the page uses the colour nowhere else
GRID = "#e5e8eb"
AXIS = "#9aa5b1"
MUTED = "#5d6d7e"
PANELS = ("load", "reps", "sets")

WIDTH, HEIGHT = 520, 400
LEFT, RIGHT = 40, 512  # the plotting area's x range
# (top, bottom) of each panel's plotting area; the title sits just above the top.
BANDS = {"load": (22.0, 160.0), "reps": (192.0, 284.0), "sets": (316.0, 372.0)}
LABEL_GAP = 90.0  # pixels kept between two spelled-out flags' labels


@dataclass(frozen=True)
class Axis:
    """A linear scale from data values onto a pixel range (y grows downwards)."""

    low: float
    high: float
    top: float
    bottom: float

    def __call__(self, value: float) -> float:
        return self.bottom - (value - self.low) / (self.high - self.low) * (self.bottom - self.top)


@dataclass(frozen=True)
class History:
    """One athlete × exercise over time, as plain lists with an item per session, in order."""

    athlete_id: str
    exercise_id: str
    unit: str  # the unit the athlete logs it in most
    days: list[date]
    top_load_kg: list[float]
    e1rm_kg: list[float | None]
    reps_per_set: list[list[int]]
    working_sets: list[int]
    flag_action: list[str | None]  # the progression flag the session produced
    flag_next: list[str | None]  # that flag's next prescription, as `3×8 @ 135 lb`
    record: list[bool]  # the session set a record


def histories(progress: pl.DataFrame) -> list[History]:
    """A History per athlete × exercise of `progress` (v_exercise_progress rows in order, with
    `record`), in the same order. The few frame operations run once for all of them: a polars
    step costs milliseconds on a busy machine, a chart's Python none."""
    if progress.height == 0:
        return []
    pair = ["athlete_id", "exercise_id"]
    units = progress.group_by(pair).agg(
        unit=pl.col("load_unit").drop_nulls().mode().sort().first().fill_null("kg")
    )
    rows = progress.join(units, on=pair, how="left", maintain_order="left").with_columns(
        flag_next=prescription(
            pl.col("flag_next_sets"), pl.col("flag_next_reps"), pl.col("flag_next_load_kg")
        ),
    )
    return [
        History(
            athlete_id=frame["athlete_id"][0],
            exercise_id=frame["exercise_id"][0],
            unit=frame["unit"][0],
            days=frame["session_date"].to_list(),
            top_load_kg=frame["top_load_kg"].to_list(),
            e1rm_kg=frame["e1rm_kg"].to_list(),
            reps_per_set=frame["reps_per_set"].to_list(),
            working_sets=frame["working_sets"].to_list(),
            flag_action=frame["flag_action"].to_list(),
            flag_next=frame["flag_next"].to_list(),
            record=frame["record"].to_list(),
        )
        for frame in rows.partition_by(pair, maintain_order=True)
    ]


def exercise_chart(history: History, chart_id: str, assisted: bool = False) -> str:
    """SVG of one athlete × exercise. `assisted`: the load is help, so the panel says less is
    better and no e1RM is drawn.

    `chart_id` makes the SVG's element ids unique, so many charts can share one page."""
    unit = history.unit
    factor = 1 / LB_TO_KG if unit == "lb" else 1.0
    days = history.days
    load = [kg * factor for kg in history.top_load_kg]
    e1rm = [None if kg is None else kg * factor for kg in history.e1rm_kg]
    reps = history.reps_per_set
    fewest = [min(per_set) for per_set in reps]
    sets = history.working_sets

    pad = max(3.0, (days[-1] - days[0]).days * 0.03)  # one session alone still gets a week
    first, last = days[0] - timedelta(days=pad), days[-1] + timedelta(days=pad)
    span = (last - first).days

    def x(day: date) -> float:
        return LEFT + (day - first).days / span * (RIGHT - LEFT)

    xs = [x(day) for day in days]
    lifted = max(load) > 0
    load_axis = _axis("load", max(v or 0.0 for v in [*load, *e1rm]) * 1.25 if lifted else 1.0)
    reps_axis = _axis("reps", max(max(per_set) for per_set in reps) * 1.15 + 1)
    sets_axis = _axis("sets", max(sets) + 0.5)
    ticks = date_ticks(first, last)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="system-ui,sans-serif" font-size="11" fill="{LINE}">',
        f'<defs><path id="{chart_id}-diamond" d="M0-5L5 0 0 5-5 0Z" stroke="#fff" '
        f'stroke-width=".7"/><path id="{chart_id}-star" d="{_star()}" stroke="{LINE}" '
        f'stroke-width=".5" fill="{RECORD_COLOUR}"/></defs>',
    ]
    if assisted:
        load_title = f"Assistance, {unit} (less is progress)"
    elif lifted:
        load_title = f"Top load, {unit} (dotted: estimated 1RM, Epley)"
    else:
        load_title = "Top load: bodyweight only"
    titles = (load_title, "Reps per working set (line: the fewest)", "Working sets")
    grid = [x(day) for day, _ in ticks]
    for panel, axis, title in zip(PANELS, (load_axis, reps_axis, sets_axis), titles, strict=True):
        out.append(_frame(panel, axis, title, grid, numbered=lifted or panel != "load"))
    out.append(_date_labels([(x(day), text) for day, text in ticks]))

    if lifted and not assisted:
        dotted = [(at, load_axis(v)) for at, v in zip(xs, e1rm, strict=True) if v is not None]
        out.append(
            f'<path d="{_polyline(dotted)}" fill="none" stroke="{LINE}" stroke-width="1.2" '
            'stroke-dasharray="1.5 2.5"/>'
        )
    load_y = [load_axis(v) for v in load]
    out.append(
        f'<g id="{chart_id}-load-line"><path d="{_polyline(list(zip(xs, load_y, strict=True)))}" '
        f'fill="none" stroke="{LINE}" stroke-width="1.6"/>'
        f'<path d="{_dots(zip(xs, load_y, strict=True))}" stroke="{LINE}" stroke-width="4.5" '
        'stroke-linecap="round"/></g>'
    )
    every_set = [(at, reps_axis(r)) for at, per_set in zip(xs, reps, strict=True) for r in per_set]
    out.append(
        f'<path d="{_dots(every_set)}" stroke="{DOTS}" stroke-width="3.5" stroke-linecap="round"/>'
    )
    fewest_y = [reps_axis(r) for r in fewest]
    out.append(
        f'<g id="{chart_id}-reps-line"><path d="{_polyline(list(zip(xs, fewest_y, strict=True)))}" '
        f'fill="none" stroke="{LINE}" stroke-width="1.6"/></g>'
    )
    out.append(_bars(xs, sets, sets_axis, span))
    sets_y = [sets_axis(n) for n in sets]
    out += _flags(history.flag_action, chart_id, xs, (load_y, fewest_y, sets_y))
    out += _records(history.record, chart_id, xs, load_y)
    out += _labels(history, xs, load_y)
    out.append("</svg>")
    return "".join(out)


def _axis(panel: str, highest: float) -> Axis:
    top, bottom = BANDS[panel]
    step = _step(highest, whole=panel != "load")
    return Axis(0.0, step * math.ceil(highest / step - 1e-9), top, bottom)


def _step(highest: float, whole: bool) -> float:
    """A nice step (1, 2, 2.5 or 5 × 10^k; `whole`: at least 1) with at most five of them to
    `highest`."""
    magnitude = 10 ** math.floor(math.log10(highest / 5)) if highest > 0 else 1.0
    nice = (1, 2, 5) if whole and magnitude >= 1 else (1, 2, 2.5, 5)
    step = next((n * magnitude for n in nice if highest / (n * magnitude) <= 5), 10 * magnitude)
    return max(step, 1.0) if whole else step


def _frame(panel: str, axis: Axis, title: str, tick_xs: Sequence[float], numbered: bool) -> str:
    """A panel's title, grid, value labels and base line."""
    parts = [
        f'<text x="{LEFT - 34}" y="{_n(axis.top - 8)}" font-weight="bold">{escape(title)}</text>'
    ]
    grid = "".join(f"M{_n(at)} {_n(axis.top)}V{_n(axis.bottom)}" for at in tick_xs)
    if numbered:
        step = _step(axis.high, whole=panel != "load")
        values = [step * k for k in range(round(axis.high / step) + 1)]
        grid += "".join(f"M{LEFT} {_n(axis(v))}H{RIGHT}" for v in values[1:])
        parts += [
            f'<text x="{LEFT - 5}" y="{_n(axis(v) + 3.5)}" text-anchor="end" fill="{MUTED}">'
            f"{v:g}</text>"
            for v in values
        ]
    parts.insert(0, f'<path d="{grid}" stroke="{GRID}" stroke-width=".8"/>')
    parts.append(f'<path d="M{LEFT} {_n(axis.bottom)}H{RIGHT}" stroke="{AXIS}" stroke-width=".8"/>')
    return "".join(parts)


def _date_labels(ticks: Sequence[tuple[float, str]]) -> str:
    """Each tick's date under it; one close to the right edge ends there, so it is not cut."""
    bottom = BANDS["sets"][1]
    return "".join(
        f'<text x="{_n(at)}" y="{_n(bottom + 14)}" '
        f'text-anchor="{"end" if at > WIDTH - 24 else "middle"}" fill="{MUTED}">'
        f"{escape(text)}</text>"
        for at, text in ticks
    )


# Steps between date ticks: days (1, 2; weekly ones from a Monday), then months.
DAY_STEPS = (1, 2, 7, 14)
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
MAX_TICKS = 7


def date_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """Dates between `first` and `last` at the smallest round step that gives at most MAX_TICKS,
    each with its label: `Mar 5`; `Mar`, naming the year at January and at the first tick;
    `2024` for steps of a year or more."""
    for days in DAY_STEPS:
        start = first + timedelta(days=-first.weekday() % 7 if days >= 7 else 0)
        ticks = [start + timedelta(days=days * k) for k in range((last - start).days // days + 1)]
        if len(ticks) <= MAX_TICKS:
            return [(tick, f"{tick:%b} {tick.day}") for tick in ticks]
    for months in MONTH_STEPS:
        ticks = _month_ticks(first, last, months)
        if len(ticks) <= MAX_TICKS:
            if months >= 12:
                return [(tick, str(tick.year)) for tick in ticks]
            return [
                (tick, f"{tick:%b %Y}" if tick.month == 1 or n == 0 else f"{tick:%b}")
                for n, tick in enumerate(ticks)
            ]
    return []


def _month_ticks(first: date, last: date, months: int) -> list[date]:
    """First days of months between `first` and `last` whose month count since year 0 is a
    multiple of `months` (so a step of 12 falls on January, of 60 on years ending in 0 or 5)."""
    index = -(-(first.year * 12 + first.month - 1) // months) * months  # a whole step, not before
    ticks = []
    while (tick := date(index // 12, index % 12 + 1, 1)) <= last:
        if tick >= first:
            ticks.append(tick)
        index += months
    return ticks


def _bars(xs: Sequence[float], sets: Sequence[int], axis: Axis, span_days: int) -> str:
    """One bar a session: most of a day wide, at least 2 pixels (a hairline barely shows; close
    sessions then overlap, and read as a denser block) and at most 8."""
    width = min(8.0, max(2.0, (RIGHT - LEFT) / max(span_days, 1) * 0.8))
    bars = "".join(
        f"M{_n(at - width / 2)} {_n(axis.bottom)}V{_n(axis(n))}h{_n(width)}V{_n(axis.bottom)}z"
        for at, n in zip(xs, sets, strict=True)
    )
    return f'<path d="{bars}" fill="{BAR}"/>'


def _flags(
    actions: Sequence[str | None],
    chart_id: str,
    xs: Sequence[float],
    ys: tuple[Sequence[float], Sequence[float], Sequence[float]],
) -> list[str]:
    """A diamond in the flag's colour on each panel at every session that produced a flag."""
    groups = []
    for action in sorted({a for a in actions if a is not None}):
        at = [i for i, a in enumerate(actions) if a == action]
        colour = ACTION_COLOURS.get(action, LINE)
        for panel, series in zip(PANELS, ys, strict=True):
            marks = "".join(
                f'<use xlink:href="#{chart_id}-diamond" x="{_n(xs[i])}" y="{_n(series[i])}"/>'
                for i in at
            )
            groups.append(f'<g id="{chart_id}-flags-{action}-{panel}" fill="{colour}">{marks}</g>')
    return groups


def _records(
    records: Sequence[bool], chart_id: str, xs: Sequence[float], load_y: Sequence[float]
) -> list[str]:
    """A star above the load of every session that set a record."""
    at = [i for i, record in enumerate(records) if record]
    if not at:
        return []
    stars = "".join(
        f'<use xlink:href="#{chart_id}-star" x="{_n(xs[i])}" y="{_n(load_y[i])}"/>' for i in at
    )
    return [f'<g id="{chart_id}-records-load">{stars}</g>']


def _labels(history: History, xs: Sequence[float], load_y: Sequence[float]) -> list[str]:
    """The load panel names each change of load (raise_load, deload, resume) and the latest
    flag, with its next prescription. Newest first, a label is left out where it would run into
    one already placed: naming every flag would bury the lines."""
    actions, rx = history.flag_action, history.flag_next
    flagged = [i for i, a in enumerate(actions) if a is not None]
    if not flagged:
        return []
    placed: list[float] = []
    labels = []
    for i in reversed(flagged):
        action = str(actions[i])
        if i != flagged[-1] and (
            action not in SPELLED_OUT or any(abs(xs[i] - at) < LABEL_GAP for at in placed)
        ):
            continue
        placed.append(xs[i])
        anchor, dx = "middle", 0.0
        if xs[i] > RIGHT - LABEL_GAP / 2:
            anchor, dx = "end", 4.0
        elif xs[i] < LEFT + LABEL_GAP / 2:
            anchor, dx = "start", -4.0
        top = max(load_y[i] - 26, BANDS["load"][0] + 2)
        labels.append(
            f'<text x="{_n(xs[i] + dx)}" y="{_n(top)}" text-anchor="{anchor}" font-size="9.5" '
            f'font-weight="bold" fill="{ACTION_COLOURS.get(action, LINE)}" stroke="#fff" '
            f'stroke-width="3" paint-order="stroke">{escape(action.replace("_", " "))}'
            f'<tspan x="{_n(xs[i] + dx)}" dy="11">→ {escape(str(rx[i]))}</tspan></text>'
        )
    return labels


def _polyline(points: Sequence[tuple[float, float]]) -> str:
    """`M x y L x y …`: one point a command, so the SVG says how many points a line has."""
    return "".join(
        f"{'M' if n == 0 else 'L'}{_n(px)} {_n(py)}" for n, (px, py) in enumerate(points)
    )


def _dots(points: Iterable[tuple[float, float]]) -> str:
    """Zero-length strokes: with round caps, a dot at each point, in one path."""
    return "".join(f"M{_n(px)} {_n(py)}h0" for px, py in points)


def _star() -> str:
    corners = []
    for k in range(10):
        radius = 7.0 if k % 2 == 0 else 3.0
        angle = math.pi / 2 + k * math.pi / 5
        corners.append(f"{_n(radius * math.cos(angle))} {_n(-radius * math.sin(angle))}")
    return "M" + "L".join(corners) + "Z"


def _n(value: float) -> str:
    """A coordinate to a tenth of a pixel, without trailing zeros: 12, 12.5, -3.2."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text
