"""One chart, read back from its SVG: the date axis, and the lines in the athlete's unit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from itertools import pairwise

import polars as pl
import pytest

from report.charts import BANDS, MAX_TICKS, History, date_ticks, exercise_chart, histories
from schemas.set_row import LB_TO_KG

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 11, 1), date(2026, 11, 4)),
        (date(2026, 11, 1), date(2026, 11, 20)),
        (date(2026, 10, 1), date(2026, 12, 20)),
        (date(2026, 1, 15), date(2026, 9, 1)),
        (date(2023, 5, 1), date(2026, 2, 1)),
        (date(2010, 11, 28), date(2026, 6, 1)),
    ],
)
def test_date_ticks_are_few_round_and_inside_the_range(first: date, last: date) -> None:
    ticks = date_ticks(first, last)
    days = [day for day, _ in ticks]
    assert 2 <= len(days) <= MAX_TICKS
    assert all(first <= day <= last for day in days) and days == sorted(days)
    gaps = {(b - a).days for a, b in pairwise(days)}
    if max(gaps) < 28:  # days or weeks: one step, weeks from a Monday
        assert len(gaps) == 1
        if min(gaps) >= 7:
            assert {day.weekday() for day in days} == {0}
    else:  # months or years: the first of a month, one step of whole months
        assert {day.day for day in days} == {1}
        steps = {(b.year - a.year) * 12 + b.month - a.month for a, b in pairwise(days)}
        assert len(steps) == 1
    labels = [label for _, label in ticks]
    if (last - first).days > 3 * 365:
        assert labels == [str(day.year) for day in days]
    elif max(gaps) >= 28:
        assert labels[0] == f"{days[0]:%b %Y}"  # the first tick names its year
    else:
        assert labels == [f"{day:%b} {day.day}" for day in days]


def history(loads_kg: list[float], unit: str) -> History:
    """One pair's sessions, as the report reads them from v_exercise_progress."""
    days = [date(2026, 10, 1) + timedelta(days=3 * n) for n in range(len(loads_kg))]
    progress = pl.DataFrame(
        {
            "athlete_id": ["a1"] * len(days),
            "exercise_id": ["squat"] * len(days),
            "session_date": days,
            "working_sets": [3] * len(days),
            "reps_per_set": [[10, 10, 9]] * len(days),
            "top_load_kg": loads_kg,
            "e1rm_kg": [kg * (1 + 9 / 30) for kg in loads_kg],
            "load_unit": [unit] * len(days),
            "flag_action": [None] * (len(days) - 1) + ["raise_load"],
            "flag_next_sets": [None] * (len(days) - 1) + [3],
            "flag_next_reps": [None] * (len(days) - 1) + [8],
            "flag_next_load_kg": [None] * (len(days) - 1) + [loads_kg[-1] + 5 * LB_TO_KG],
            "record": [False] * len(days),
        }
    )
    (only,) = histories(progress)
    return only


def panel_scale(svg: str, panel: str) -> tuple[float, float]:
    """(value per pixel, value at y = 0) of a panel, from two of its numbered grid labels."""
    top, bottom = BANDS[panel]
    numbered = [
        (float(text.text or ""), float(text.get("y", "")) - 3.5)  # labels sit 3.5 px below
        for text in ET.fromstring(svg).iter(f"{SVG_NS}text")
        if text.get("text-anchor") == "end"
    ]
    labels = [(value, y) for value, y in numbered if top - 1 <= y <= bottom + 1]
    (v0, y0), (v1, y1) = labels[0], labels[-1]
    per_px = (v1 - v0) / (y1 - y0)
    return per_px, v0 - y0 * per_px


def line_values(svg: str, series: str, panel: str) -> list[float]:
    per_px, at_zero = panel_scale(svg, panel)
    for group in ET.fromstring(svg).iter(f"{SVG_NS}g"):
        if group.get("id", "").endswith(f"-{series}"):
            path = group.find(f"{SVG_NS}path")
            assert path is not None
            ys = [float(y) for y in re.findall(r"[ML][-\d.]+ ([-\d.]+)", path.get("d", ""))]
            return [at_zero + y * per_px for y in ys]
    raise AssertionError(f"no {series}")


def test_the_load_line_is_drawn_in_the_lifter_s_unit() -> None:
    pounds = [135.0, 135.0, 140.0, 145.0]
    svg = exercise_chart(history([lb * LB_TO_KG for lb in pounds], "lb"), "c1")
    assert "Top load, lb" in svg
    assert line_values(svg, "load-line", "load") == pytest.approx(pounds, abs=0.6)
    assert line_values(svg, "reps-line", "reps") == pytest.approx([9] * 4, abs=0.1)
    assert "→ 3×8 @ 150 lb" in svg  # the flag's next prescription, spelled out in lb


def test_a_chart_is_small_and_its_ids_are_its_own() -> None:
    one = exercise_chart(history([60.0 + n for n in range(200)], "kg"), "c7")
    assert len(one) < 30_000  # 200 sessions
    ids = re.findall(r'id="([^"]+)"', one)
    assert ids and all(name.startswith("c7-") for name in ids)
    assert set(re.findall(r'href="#([^"]+)"', one)) <= set(ids)
    ET.fromstring(one)  # well-formed, so the browser draws all of it
