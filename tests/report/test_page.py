"""The report page, rendered in-process: a summary of what to change next session first, then a
chart per athlete and exercise a coach acts on (grouped by muscle, named, every flag marked),
user strings escaped, nothing fetched from the network, and --athlete keeping to one athlete."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from markupsafe import escape

from flows import discovery, pipeline
from flows.config import Config, load
from report import UnknownAthlete, write_report
from report import page as report_page
from report.data import read
from schemas.config_files import ProgramsFile
from schemas.set_row import LB_TO_KG
from tests.conftest import Workspace, csv_text
from tests.sample import AS_OF
from warehouse.db import writer

SVG_NS = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 12, 1)  # stands in for the flags' date before there are flags


class Page(HTMLParser):
    """What a coach sees, read back from the HTML: the summary blocks' text per athlete, and
    every chart card in page order with its athlete, muscle group, title and SVG."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.athlete: str | None = None
        self.muscle: str | None = None
        self.cards: list[tuple[str, str]] = []  # (athlete, exercise)
        self.muscles: list[str] = []  # each card's group
        self.titles: list[str] = []
        self.summary: dict[str, str] = {}
        self._in_summary: str | None = None
        self._depth = 0
        self._title = False
        self.feed(html)
        self.svgs = re.findall(r"<svg.*?</svg>", html, re.DOTALL)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if self._in_summary is not None and tag == "div":
            self._depth += 1
        if tag == "div" and "next" in classes:
            self._in_summary, self._depth = str(found["data-athlete"]), 1
            self.summary[self._in_summary] = ""
        if tag == "section" and "data-athlete" in found:
            self.athlete, self.muscle = found["data-athlete"], None
        if tag == "h4" and "data-muscle" in found:
            self.muscle = found["data-muscle"]
        if tag == "div" and "chart" in classes:
            assert self.athlete is not None and self.muscle is not None
            self.cards.append((self.athlete, str(found["data-exercise"])))
            self.muscles.append(self.muscle)
        self._title = tag == "h3" and self.athlete is not None and "title" in found

    def handle_endtag(self, tag: str) -> None:
        if self._in_summary is not None and tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self._in_summary = None
        if tag == "h3":
            self._title = False

    def handle_data(self, data: str) -> None:
        if self._in_summary is not None:
            self.summary[self._in_summary] += data
        if self._title:
            self.titles.append(data)

    def summary_text(self, athlete: str) -> str:
        return " ".join(self.summary.get(athlete, "").split())


def query(snapshot: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def report(
    snapshot: Path, out: Path, config: Config | None = None, athlete: str | None = None
) -> str:
    programs = (config or load()).programs
    return write_report(snapshot, out, programs, TODAY, athlete).path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(sample_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return report(sample_snapshot, tmp_path_factory.mktemp("report"))


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
            path = group.find(f"{SVG_NS}path")  # the line; its dots are the next path
            assert path is not None
            return len(re.findall(r"[ML]", path.get("d", "")))
    return 0


def rx(sets: int, reps: int, kg: float, unit: str) -> str:
    """A prescription as a lifter reads it, in their unit: `3×10 @ 135 lb`, `2×12`."""
    if kg <= 0.001:
        return f"{sets}×{reps}"
    shown = round(kg / LB_TO_KG if unit == "lb" else kg, 2)
    return f"{sets}×{reps} @ {shown:g} {unit}"


def expected_names(snapshot: Path) -> dict[tuple[str, str], str]:
    """Each pair's name: the catalog's, else the athlete's most used spelling (ties: the last
    in order), read independently of the report's query."""
    catalog = dict(query(snapshot, "SELECT exercise_id, name FROM exercises"))
    spellings: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for athlete, exercise, raw, n in query(
        snapshot, "SELECT athlete_id, exercise_id, exercise_raw, count(*) FROM sets GROUP BY ALL"
    ):
        spellings.setdefault((athlete, exercise), []).append((n, raw))
    return {pair: catalog.get(pair[1]) or max(options)[1] for pair, options in spellings.items()}


def test_a_chart_for_every_pair_a_coach_acts_on_through_every_session(
    page: str, sample_snapshot: Path
) -> None:
    # Flagged, or trained within the default 180 dormant days of the flags' date: in the
    # sample that is every pair (tests below leave some out).
    expected = query(
        sample_snapshot,
        """
        SELECT athlete_id, exercise_id, count(DISTINCT session_id) FROM sets
        WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL
        GROUP BY ALL
        HAVING max(performed_at)::DATE >= (SELECT max(as_of) FROM v_current_flags) - 180
            OR (athlete_id, exercise_id) IN (SELECT (athlete_id, exercise_id) FROM v_current_flags)
        """,
    )
    shown = Page(page)
    assert sorted(shown.cards) == sorted((athlete, exercise) for athlete, exercise, _ in expected)
    sessions = {(athlete, exercise): n for athlete, exercise, n in expected}
    for card, svg in zip(shown.cards, shown.svgs, strict=True):
        assert line_points(svg, "load-line") == line_points(svg, "reps-line") == sessions[card]


def test_charts_are_named_not_slugged(page: str, sample_snapshot: Path) -> None:
    names = expected_names(sample_snapshot)
    shown = Page(page)
    assert shown.titles == [names[card] for card in shown.cards]
    assert any(" " in title for title in shown.titles)  # names, not snake_case slugs
    assert not any(re.fullmatch(r"[a-z0-9_]+", title) for title in shown.titles)


def test_the_summary_comes_first_and_says_what_to_change_in_the_athlete_s_unit(
    page: str, sample_snapshot: Path
) -> None:
    assert page.index('id="summary"') < page.index("<svg")
    names = expected_names(sample_snapshot)
    shown = Page(page)
    flags = query(
        sample_snapshot,
        "SELECT athlete_id, exercise_id, next_sets, next_reps, next_load_kg, load_unit "
        "FROM v_current_flags WHERE kind = 'progression'",
    )
    assert {unit for *_, unit in flags} == {"kg", "lb"}  # the sample has lifters in both
    for athlete, exercise, sets, reps, kg, unit in flags:
        assert f"{names[(athlete, exercise)]} {rx(sets, reps, kg, unit)}" in shown.summary_text(
            athlete
        )
    actions = query(
        sample_snapshot, "SELECT athlete_id, count(DISTINCT action) FROM v_current_flags GROUP BY 1"
    )
    assert set(shown.summary) == {athlete for athlete, _ in actions}
    for athlete, lines in actions:  # a line per action, not a row per flag
        block = re.search(rf'class="next" data-athlete="{athlete}">(.*?)</ul>', page, re.DOTALL)
        assert block is not None
        assert len(re.findall(r"<li data-action=", block.group(1))) == lines


def test_a_long_summary_line_names_a_few_and_folds_the_rest(workspace: Workspace) -> None:
    rows = [
        f"2026-11-0{day}T07:{n:02}:00,Move {n},10,20,kg,,"
        for day in (2, 3)
        for n in range(report_page.SHOWN + 3)
    ]
    workspace.write("a1/log.csv", csv_text(*rows))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", date(2026, 11, 4))

    html = report(workspace.snapshot, workspace.root / "out", config)

    (line,) = re.findall(r"<li data-action=.*?</li>", html, re.DOTALL)
    folded = re.search(
        r"<details><summary>and (\d+) more</summary>(.*?)</details>", line, re.DOTALL
    )
    assert folded is not None and int(folded.group(1)) == 3
    assert len(re.findall(r'href="#c\d+"', line)) == report_page.SHOWN + 3  # each to its chart
    assert len(re.findall(r'href="#c\d+"', folded.group(2))) == 3


def test_charts_are_grouped_by_first_primary_muscle_in_body_order(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    # The catalog's muscles, but none for one exercise (on a copy), so that "other" shows.
    snapshot = tmp_path / "analytics.duckdb"
    shutil.copy(sample_snapshot, snapshot)
    con = duckdb.connect(str(snapshot))
    con.execute("UPDATE exercises SET primary_muscles = [] WHERE exercise_id = 'bent_over_row'")
    con.execute("UPDATE exercises SET assisted = exercise_id = 'pull_up'")
    muscles = dict(con.execute("SELECT exercise_id, primary_muscles FROM exercises").fetchall())
    con.close()

    shown = Page(report(snapshot, tmp_path / "out"))

    assert shown.muscles == [(muscles.get(exercise) or ["other"])[0] for _, exercise in shown.cards]
    assert {"quadriceps", "chest", "lower back", "other"} <= set(shown.muscles)
    last = dict(
        ((athlete, exercise), day)
        for athlete, exercise, day in query(
            snapshot,
            "SELECT athlete_id, exercise_id, max(session_date) FROM v_sessions "
            "WHERE working_sets > 0 GROUP BY ALL",
        )
    )
    order = [*report_page.MUSCLES, "other"]
    for athlete in {athlete for athlete, _ in shown.cards}:
        mine = [
            (muscle, card)
            for muscle, card in zip(shown.muscles, shown.cards, strict=True)
            if card[0] == athlete
        ]
        ranks = [order.index(muscle) for muscle, _ in mine]
        assert ranks == sorted(ranks)  # groups in body order, "other" last
        for muscle in {muscle for muscle, _ in mine}:
            days = [last[card] for m, card in mine if m == muscle]
            assert days == sorted(days, reverse=True)  # the most recently trained first


def test_an_assisted_exercise_s_chart_says_less_help_is_progress(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "analytics.duckdb"
    shutil.copy(sample_snapshot, snapshot)
    con = duckdb.connect(str(snapshot))
    con.execute("ALTER TABLE exercises ADD COLUMN IF NOT EXISTS assisted BOOLEAN")
    con.execute("UPDATE exercises SET assisted = exercise_id = 'bench_press'")
    con.close()

    shown = Page(report(snapshot, tmp_path / "out"))

    for (_, exercise), svg in zip(shown.cards, shown.svgs, strict=True):
        assert ("Assistance, " in svg) == (exercise == "bench_press")
        assert ("estimated 1RM" in svg) == (exercise != "bench_press" and "Top load, " in svg)


def write_and_run(workspace: Workspace, as_of: date, *rows: str) -> Config:
    workspace.write(f"a1/{as_of}.csv", csv_text(*rows))
    config = workspace.config()
    files, _ = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", as_of)
    return config


def test_exercises_dormant_at_the_flags_date_get_no_chart(workspace: Workspace) -> None:
    as_of = date(2026, 11, 4)
    old = as_of - timedelta(days=181)  # its last session: dormant by a day
    config = write_and_run(
        workspace,
        as_of,
        f"{old - timedelta(days=2)}T07:00:00,Squat,5,100,kg,,",
        f"{old}T07:00:00,Squat,5,100,kg,,",
        f"{as_of - timedelta(days=180)}T07:00:00,Deadlift,5,140,kg,,",  # 180 is not dormant
        "2026-11-02T07:00:00,Bench Press,8,60,kg,,",
        "2026-11-03T07:00:00,Bench Press,8,60,kg,,",
    )
    # Loaded after the run, so after the flags' date: trained since, so charted.
    later = workspace.write("a1/later.csv", csv_text("2026-11-20T07:00:00,Zercher Squat,5,80,kg,,"))
    found, _ = discovery.named_files([later], None, config)
    pipeline.execute(config, found, "ingest", None)

    html = report(workspace.snapshot, workspace.root / "out", config)

    assert sorted(exercise for _, exercise in Page(html).cards) == [
        "bench_press",
        "deadlift",
        "zercher_squats",
    ]
    assert "1 exercise trained only before that is left out" in html
    # dormant_days 0 turns dormancy off, per athlete as in the rules.
    programs = ProgramsFile.model_validate(
        {**config.programs.model_dump(), "overrides": {"a1": {"default": {"dormant_days": 0}}}}
    )
    everything = write_report(workspace.snapshot, workspace.root / "all", programs, TODAY)
    assert "squat" in {exercise for _, exercise in Page(everything.path.read_text()).cards}


def test_the_header_gives_the_flags_own_as_of_date(workspace: Workspace) -> None:
    config = write_and_run(
        workspace,
        date(2026, 11, 4),
        "2026-11-02T07:00:00,Squat,5,100,kg,,",
        "2026-11-03T07:00:00,Squat,5,100,kg,,",
    )
    # A later run as of a day when every exercise is dormant leaves those flags current.
    pipeline.execute(config, [], "run", date(2027, 12, 1))
    assert workspace.query(
        "SELECT max(as_of) FROM runs UNION ALL SELECT max(as_of) FROM v_current_flags",
        db=workspace.snapshot,
    ) == [(date(2027, 12, 1),), (date(2026, 11, 4),)]

    html = report(workspace.snapshot, workspace.root / "out", config)

    header = html[html.index("<header>") : html.index("</header>")]
    assert "Flags as of Wed Nov 4, 2026" in header
    assert "2027" not in header


def test_without_flags_the_chart_window_ends_today(workspace: Workspace) -> None:
    config = workspace.config()
    workspace.write("a1/log.csv", csv_text(f"{TODAY - timedelta(days=10)}T07:00:00,Squat,5,1,kg,,"))
    found, _ = discovery.inbox_files(config)
    pipeline.execute(config, found, "ingest", None)  # loads, evaluates nothing

    html = report(workspace.snapshot, workspace.root / "out", config)

    assert "No flags yet" in html and Page(html).cards == [("a1", "squat")]
    assert f"of {TODAY:%b} {TODAY.day}, {TODAY.year}" in html


def test_each_chart_is_told_as_it_is_drawn(
    page: str, sample_snapshot: Path, tmp_path: Path
) -> None:
    drawn: list[tuple[int, int]] = []
    written = write_report(
        sample_snapshot, tmp_path, load().programs, TODAY, drawn=lambda *told: drawn.append(told)
    )
    # The CLI's bar of charts drawn; the same page as without it.
    assert drawn == [(n, written.charts) for n in range(1, written.charts + 1)]
    assert Page(written.path.read_text()).svgs == Page(page).svgs and written.charts > 10


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
    shown = Page(page)
    marked = {card: flag_markers(svg) for card, svg in zip(shown.cards, shown.svgs, strict=True)}
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

    html = report(workspace.snapshot, workspace.root / "out", config)

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the name, as the athlete wrote it
    assert "&lt;img src=x onerror=alert(2)&gt;.csv" in html  # the file with a rejected row
    assert "<script" not in html and "<img" not in html


def test_one_athlete_s_report_shows_only_their_charts_and_files(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    html = report(sample_snapshot, tmp_path, athlete="tom")
    own_files = {path for (path,) in query(sample_snapshot, "SELECT path FROM ingested_files")}
    assert {athlete for athlete, _ in Page(html).cards} == {"tom"}
    assert set(Page(html).summary) == {"tom"}
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

    own = read(workspace.snapshot, config.programs, TODAY, athlete="a1").unmapped
    everyone = read(workspace.snapshot, config.programs, TODAY).unmapped

    assert own.select("example_name", "athletes", "sets").rows() == [("Halo Curl", 1, 2)]
    assert sorted(everyone.select("athletes", "sets").rows()) == [(1, 1), (2, 5)]


def test_an_unknown_athlete_is_an_error(sample_snapshot: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownAthlete, match="'nobody' has no sets"):
        report(sample_snapshot, tmp_path, athlete="nobody")
    assert not (tmp_path / "index.html").exists()


def test_an_empty_warehouse_gives_a_page_that_says_so(tmp_path: Path) -> None:
    snapshot = tmp_path / "analytics.duckdb"
    with writer(snapshot):
        pass  # migrated, no run yet
    html = report(snapshot, tmp_path / "out")
    assert Page(html).cards == [] and "<svg" not in html
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
    shown = Page(page)
    starred = {card: record_markers(svg) for card, svg in zip(shown.cards, shown.svgs, strict=True)}
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


def test_the_sample_s_flags_are_as_of_its_last_run(page: str) -> None:
    assert f"Flags as of {AS_OF:%a %b} {AS_OF.day}, {AS_OF.year}" in page
