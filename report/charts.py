"""Charts of one athlete's exercise over time, drawn with matplotlib as inline SVG.

Three panels share the date axis: top load (in the athlete's unit, with the e1RM beside it),
reps per working set, and working sets. Each session that produced a flag gets a marker in the
flag's colour on every panel, and the load panel spells out each raise_load, deload and resume
and the latest flag. A session that set a record (a new best estimated 1RM) gets a star.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import matplotlib as mpl
import matplotlib.dates as mdates
import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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
BAR = "#8796a5"  # the working-sets bars; the page uses the colour nowhere else
PANELS = ("load", "reps", "sets")
STYLE: dict[Any, Any] = {
    # Text stays text, drawn in a local sans-serif font: nothing to fetch, and a chart is half
    # the bytes and time of one with every glyph as a path.
    "svg.fonttype": "none",
    # Fixed ids and no date stamp: the same data gives the same bytes.
    "svg.hashsalt": "repflow",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e8eb",
    "grid.linewidth": 0.8,
    "axes.edgecolor": "#9aa5b1",
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    # A fixed title height: placed automatically, each title measures the axis below it on
    # every draw, a quarter of a chart's time.
    "axes.titley": 1.0,
    "axes.titlepad": 4.0,
}


def exercise_chart(sessions: pl.DataFrame, chart_id: str) -> str:
    """SVG of one athlete × exercise: `sessions` are its v_exercise_progress rows, in order.

    `chart_id` makes the SVG's element ids unique, so many charts can share one page."""
    # A bare Figure, not pyplot: no global state, no GUI backend, nothing to close.
    with mpl.rc_context(STYLE):
        figure = _draw(sessions)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return _unique_ids(_strip_prolog(buffer.getvalue()), chart_id)


def _draw(sessions: pl.DataFrame) -> Figure:
    unit = str(sessions["load_unit"].drop_nulls().mode().sort().first() or "kg")
    factor = 1 / LB_TO_KG if unit == "lb" else 1.0
    days: list[date] = sessions["session_date"].to_list()
    x = list(mdates.date2num(days))
    load = [kg * factor for kg in sessions["top_load_kg"].to_list()]
    e1rm = [None if kg is None else kg * factor for kg in sessions["e1rm_kg"].to_list()]
    reps: list[list[int]] = sessions["reps_per_set"].to_list()
    fewest = [min(per_set) for per_set in reps]
    sets: list[int] = sessions["working_sets"].to_list()

    figure = Figure(figsize=(6.6, 5.2))
    # Fixed margins: constrained layout would cost most of the drawing time.
    figure.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.07, hspace=0.45)
    load_ax, reps_ax, sets_ax = figure.subplots(3, 1, sharex=True, height_ratios=[1.4, 1, 0.8])

    # The group ids (gid) name the plotted series in the SVG, so tests can find them.
    load_ax.plot(x, load, color=LINE, marker="o", markersize=3, linewidth=1.6, gid="load-line")
    if max(load) > 0:
        load_ax.plot(x, e1rm, color=LINE, linestyle=":", linewidth=1.2)
        load_ax.set_title(f"Top load, {unit} (dotted: estimated 1RM, Epley)")
        load_ax.set_ylim(0, max(v or 0 for v in load + e1rm) * 1.3)
    else:
        load_ax.set_title("Top load: bodyweight only")
        load_ax.set_ylim(-1, 10)

    reps_ax.scatter(
        [at for at, per_set in zip(x, reps, strict=True) for _ in per_set],
        [value for per_set in reps for value in per_set],
        s=10,
        color="#aab7c4",
        zorder=2,
    )
    reps_ax.plot(x, fewest, color=LINE, linewidth=1.6, gid="reps-line")
    reps_ax.set_title("Reps per working set (line: the fewest)")
    reps_ax.set_ylim(0, max(max(per_set) for per_set in reps) * 1.25 + 1)
    reps_ax.yaxis.get_major_locator().set_params(integer=True)

    sets_ax.bar(x, sets, width=0.8, color=BAR)
    sets_ax.set_title("Working sets")
    sets_ax.set_ylim(0, max(sets) + 1)
    sets_ax.yaxis.get_major_locator().set_params(integer=True)

    _mark_flags(sessions, x, (load, fewest, sets), (load_ax, reps_ax, sets_ax))
    _mark_records(sessions, x, load, load_ax)
    # At least a week on the axis: one session alone would otherwise span it, in hours.
    pad = max(3.0, (x[-1] - x[0]) * 0.03)
    sets_ax.set_xlim(x[0] - pad, x[-1] + pad)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    sets_ax.xaxis.set_major_locator(locator)
    sets_ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return figure


def _mark_flags(
    sessions: pl.DataFrame,
    x: list[float],
    values: tuple[Sequence[float], Sequence[float], Sequence[float]],
    axes: tuple[Axes, Axes, Axes],
) -> None:
    """A diamond in the flag's colour on each panel at every session that produced a flag. The
    load panel also spells out each change of load and the latest flag, with the next
    prescription: naming every flag would bury the lines."""
    actions: list[str | None] = sessions["flag_action"].to_list()
    for action in sorted({a for a in actions if a is not None}):
        at = [i for i, a in enumerate(actions) if a == action]
        colour = ACTION_COLOURS.get(action, LINE)
        for ax, panel, series in zip(axes, PANELS, values, strict=True):
            ax.scatter(
                [x[i] for i in at],
                [series[i] for i in at],
                marker="D",
                s=36,
                color=colour,
                edgecolors="white",
                linewidths=0.6,
                zorder=4,
                gid=f"flags-{action}-{panel}",
            )
    prescriptions = _prescriptions(sessions)
    flagged = [i for i, a in enumerate(actions) if a is not None]
    span = (x[-1] - x[0]) or 1.0
    for index in flagged:
        action = str(actions[index])
        if action not in SPELLED_OUT and index != flagged[-1]:
            continue
        near_end = x[index] - x[0] > 0.75 * span  # keep the text inside the chart
        axes[0].annotate(
            f"{action.replace('_', ' ')}\n→ {prescriptions[index]}",
            (x[index], values[0][index]),
            xytext=(4 if near_end else 0, 12),
            textcoords="offset points",
            ha="right" if near_end else "center",
            fontsize=7.5,
            color=ACTION_COLOURS.get(action, LINE),
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.7},
            zorder=5,
        )


def _mark_records(sessions: pl.DataFrame, x: list[float], load: list[float], ax: Axes) -> None:
    """A star above the load of every session that set a record."""
    at = [i for i, record in enumerate(sessions["record"].to_list()) if record]
    if at:
        ax.scatter(
            [x[i] for i in at],
            [load[i] for i in at],
            marker="*",
            s=110,
            color=RECORD_COLOUR,
            edgecolors=LINE,
            linewidths=0.5,
            zorder=6,
            gid="records-load",
        )


def _prescriptions(sessions: pl.DataFrame) -> list[str]:
    """The next prescription of each flag, as `3×10 @ 42.5 kg`, in the athlete's unit."""
    text = prescription(
        pl.col("flag_next_sets"), pl.col("flag_next_reps"), pl.col("flag_next_load_kg")
    )
    return sessions.select(text.alias("rx"))["rx"].to_list()


def _strip_prolog(svg: str) -> str:
    """Drop the XML declaration and DOCTYPE, which do not belong inside HTML."""
    return svg[svg.index("<svg") :]


def _unique_ids(svg: str, prefix: str) -> str:
    """Prefix every id and reference, so clip paths and glyphs of one chart never resolve to
    another chart's on the same page."""
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{prefix}-\2"', svg)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", svg)
