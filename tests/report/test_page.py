"""The report page, rendered in-process: a chart per athlete and exercise with every flag marked,
user strings escaped, nothing fetched from the network, and --athlete keeping to one athlete."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from flows import discovery, pipeline
from report import UnknownAthlete, write_report
from report import page as report_page
from report.data import read
from tests.conftest import Workspace, csv_text
from warehouse.db import writer

SVG_NS = "{http://www.w3.org/2000/svg}"


class Charts(HTMLParser):
    """(athlete, exercise) of every chart card, in page order, and each card's SVG text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.athlete: str | None = None
        self.cards: list[tuple[str, str]] = []
        self.feed(html)
        self.svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "section" and "data-athlete" in found:
            self.athlete = found["data-athlete"]
        if tag == "div" and "chart" in (found.get("class") or "").split():
            assert self.athlete is not None
            self.cards.append((self.athlete, str(found["data-exercise"])))


def query(snapshot: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def page(sample_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    written = write_report(sample_snapshot, tmp_path_factory.mktemp("report"))
    return written.path.read_text(encoding="utf-8")


def flag_markers(svg: str) -> dict[str, int]:
    """Markers on the load panel by action, counted from the SVG's flag groups."""
    counts: dict[str, int] = {}
    for group in ET.fromstring(svg).iter(f"{SVG_NS}g"):
        match = re.search(r"flags-(\w+)-load$", group.get("id", ""))
        if match:
            counts[match.group(1)] = len(list(group.iter(f"{SVG_NS}use")))
    return counts


def line_points(svg: str, series: str) -> int:
    """Points on a plotted line (`load-line` or `reps-line`), from its SVG path."""
    for group in ET.fromstring(svg).iter(f"{SVG_NS}g"):
        if group.get("id", "").endswith(f"-{series}"):
            path = group.find(f"{SVG_NS}path")  # the line; its marker's path is in <defs>
            assert path is not None
            return len(re.findall(r"[ML]", path.get("d", "")))
    return 0


def test_a_chart_for_every_athlete_and_exercise_through_every_session(
    page: str, sample_snapshot: Path
) -> None:
    expected = query(
        sample_snapshot,
        "SELECT athlete_id, exercise_id, count(DISTINCT session_id) FROM sets "
        "WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL GROUP BY ALL ORDER BY ALL",
    )
    charts = Charts(page)
    assert charts.cards == [(athlete, exercise) for athlete, exercise, _ in expected]
    assert len(charts.svgs) == len(expected)
    for (_, _, sessions), svg in zip(expected, charts.svgs, strict=True):
        assert line_points(svg, "load-line") == line_points(svg, "reps-line") == sessions


def test_charts_drawn_on_every_core_are_the_charts_drawn_in_turn(
    page: str, sample_snapshot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_page, "PARALLEL_CHARTS", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # whatever the machine has
    spawned = []
    pool = report_page.ProcessPoolExecutor

    def counted(workers: int, **options: object) -> object:
        spawned.append(workers)
        return pool(workers, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(report_page, "ProcessPoolExecutor", counted)
    drawn: list[tuple[int, int]] = []
    written = write_report(sample_snapshot, tmp_path, drawn=lambda *told: drawn.append(told))
    parallel = written.path.read_text(encoding="utf-8")
    assert spawned and spawned[0] > 1
    assert Charts(parallel).svgs == Charts(page).svgs and Charts(parallel).svgs
    # Each chart is told as it comes back: the CLI's bar of charts drawn.
    assert drawn == [(n, written.charts) for n in range(1, written.charts + 1)]


def test_every_flagged_session_is_marked_in_its_action_colour(
    page: str, sample_snapshot: Path
) -> None:
    # A session produced a flag when some run's newest evidence date is its date (one session
    # a day in the sample); of several runs the last one evaluated says which action.
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for athlete, exercise, action, sessions in query(
        sample_snapshot,
        """
        WITH judged AS (
            SELECT athlete_id, exercise_id, list_max(evidence) AS day,
                   arg_max(action, evaluated_at) AS action
            FROM flags WHERE kind = 'progression' GROUP BY ALL
        )
        SELECT athlete_id, exercise_id, action, count(*) FROM judged GROUP BY ALL
        """,
    ):
        expected.setdefault((athlete, exercise), {})[action] = sessions
    charts = Charts(page)
    marked = {card: flag_markers(svg) for card, svg in zip(charts.cards, charts.svgs, strict=True)}
    assert {card: counts for card, counts in marked.items() if counts} == expected
    assert sum(sum(c.values()) for c in expected.values()) > len(expected)  # a history, not one


def test_the_current_flags_and_data_quality_are_on_the_page(
    page: str, sample_snapshot: Path
) -> None:
    for (reason,) in query(sample_snapshot, "SELECT reason FROM v_current_flags"):
        assert str(escape(reason)) in page
    for (path,) in query(sample_snapshot, "SELECT DISTINCT path FROM v_data_quality"):
        assert f"<td>{path}</td>" in page


def test_the_page_loads_nothing_from_the_network(page: str) -> None:
    assert not re.search(r"<(script|link|iframe|img|object|embed)\b", page, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*[\"']?\s*(https?:)?//|@import", page, re.IGNORECASE)


def test_user_strings_are_escaped(workspace: Workspace) -> None:
    hostile = "<script>alert(1)</script>"
    workspace.write(
        "a1/<img src=x onerror=alert(2)>.csv",
        csv_text(
            f"2026-11-02T07:00:00,{hostile},10,20,kg,,",
            "2026-11-03T07:00:00,Squat,ten,20,kg,,",
        ),
    )
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", date(2026, 11, 4))

    html = write_report(workspace.snapshot, workspace.root / "out").path.read_text()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the unmapped name, escaped
    assert "&lt;img src=x onerror=alert(2)&gt;.csv" in html  # the file with a rejected row
    assert "<script" not in html and "<img" not in html


def test_one_athlete_s_report_shows_only_their_charts_and_files(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    html = write_report(sample_snapshot, tmp_path, athlete="tom").path.read_text()
    own_files = {path for (path,) in query(sample_snapshot, "SELECT path FROM ingested_files")}
    assert {athlete for athlete, _ in Charts(html).cards} == {"tom"}
    shown = {path for path in own_files if f"<td>{path}</td>" in html}
    assert shown and all(path.startswith("tom/") for path in shown)


def test_one_athlete_s_unmapped_names_are_counted_over_their_own_sets(
    workspace: Workspace,
) -> None:
    workspace.write(
        "a1/log.csv",
        csv_text(
            "2026-11-02T07:00:00,Halo Curl,10,8,kg,,",
            "2026-11-02T07:05:00,Halo Curl,9,8,kg,,",
        ),
    )
    workspace.write(
        "a2/log.csv",
        csv_text(
            *(f"2026-11-02T07:0{n}:00,halo  curl,10,8,kg,," for n in range(3)),
            "2026-11-02T08:00:00,Jefferson Curl,10,8,kg,,",
        ),
    )
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", date(2026, 11, 4))

    own = read(workspace.snapshot, athlete="a1").unmapped
    everyone = read(workspace.snapshot).unmapped

    assert own.select("example_name", "athletes", "sets").rows() == [("Halo Curl", 1, 2)]
    assert sorted(everyone.select("athletes", "sets").rows()) == [(1, 1), (2, 5)]


def test_an_unknown_athlete_is_an_error(sample_snapshot: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownAthlete, match="'nobody' has no sets"):
        write_report(sample_snapshot, tmp_path, athlete="nobody")
    assert not (tmp_path / "index.html").exists()


def test_an_empty_warehouse_gives_a_page_that_says_so(tmp_path: Path) -> None:
    snapshot = tmp_path / "analytics.duckdb"
    with writer(snapshot):
        pass  # migrated, no run yet
    html = write_report(snapshot, tmp_path / "out").path.read_text()
    assert Charts(html).cards == [] and "<svg" not in html
    assert "No flags yet" in html and "No sessions with working sets yet" in html


def record_markers(svg: str) -> int:
    """Stars on the load panel, counted from the SVG's record group."""
    for group in ET.fromstring(svg).iter(f"{SVG_NS}g"):
        if group.get("id", "").endswith("-records-load"):
            return len(list(group.iter(f"{SVG_NS}use")))
    return 0


def test_every_session_that_set_a_record_gets_a_star(page: str, sample_snapshot: Path) -> None:
    # A record flag names its session as its newest evidence date, as a progression flag does.
    expected = dict(
        ((athlete, exercise), sessions)
        for athlete, exercise, sessions in query(
            sample_snapshot,
            "SELECT athlete_id, exercise_id, count(DISTINCT list_max(evidence)) FROM flags "
            "WHERE action = 'record' GROUP BY ALL",
        )
    )
    charts = Charts(page)
    starred = {
        card: record_markers(svg) for card, svg in zip(charts.cards, charts.svgs, strict=True)
    }
    assert {card: n for card, n in starred.items() if n} == expected
    assert sum(expected.values()) > len(expected)  # records over time, not one per chart


def test_stepping_back_has_colours_of_its_own(page: str, sample_snapshot: Path) -> None:
    colours = report_page.ACTION_COLOURS
    assert len(set(colours.values())) == len(colours)
    assert {"deload", "resume"} <= set(colours)
    stepped_back = query(
        sample_snapshot,
        "SELECT DISTINCT action FROM flags WHERE action IN ('deload', 'resume') ORDER BY 1",
    )
    assert stepped_back == [("deload",), ("resume",)]  # the sample shows both
    for (action,) in stepped_back:
        legend = f'<span style="color: {colours[action]}">◆ {action}</span>'
        assert legend in page
    for (action,) in query(
        sample_snapshot, "SELECT action FROM v_current_flags WHERE kind = 'progression'"
    ):
        assert f"background: {colours[action]}" in page
