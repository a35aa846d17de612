"""The report as a coach sees it: opened from disk in headless Chromium, the summary and the
charts painted; for the sample inbox, and for a gym of every real export (each its own
athlete), which must also stay under 5 MB and be written within a minute."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from flows import discovery, pipeline
from flows.config import load
from report.charts import ACTION_COLOURS, BAR
from tests import debian
from tests.conftest import REAL_DATA, needs_real_data, repflow

WIDTH = 1200
# The real gym's flags are as of the day after its newest FitNotes session: most athletes then
# have recent sessions, some are back after a break, and older exports are dormant.
GYM_AS_OF = date(2025, 11, 13)
MAX_BYTES = 5_000_000
MAX_SECONDS = 60


def chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with everything that could reach the network turned off."""
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def painted(image: Image.Image, colours: list[str]) -> int:
    """Pixels within 6 of one of `colours` in every channel."""
    counts = image.getcolors(maxcolors=image.width * image.height)
    assert counts is not None
    wanted = [rgb(colour) for colour in colours]
    return sum(
        n
        for n, pixel in counts
        if any(max(abs(a - b) for a, b in zip(pixel, want, strict=True)) <= 6 for want in wanted)
    )


def screenshot(browser: str, page: Path, shot: Path, height: int) -> Image.Image:
    taken = chromium(
        browser,
        shot.parent / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{height}",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, height)
    return image


def charted(snapshot: Path) -> tuple[int, int]:
    """Pairs a coach acts on (flagged, or trained within 180 days of the flags' date) and
    their sessions, read from the sets themselves."""
    con = duckdb.connect(str(snapshot), read_only=True)
    found = con.execute(
        """
        WITH pairs AS (
            SELECT athlete_id, exercise_id, count(DISTINCT session_id) AS sessions
            FROM sets WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL
            GROUP BY ALL
            HAVING max(performed_at)::DATE >= (SELECT max(as_of) FROM v_current_flags) - 180
                OR (athlete_id, exercise_id) IN (
                    SELECT (athlete_id, exercise_id) FROM v_current_flags
                )
        )
        SELECT count(*), sum(sessions) FROM pairs
        """
    ).fetchone()
    con.close()
    assert found is not None
    return found[0], found[1]


def assert_summary_and_charts_painted(
    browser: str, page: Path, folder: Path, chart_at_px: int
) -> None:
    """The top of the page shows the summary's coloured action badges; further down, within
    `chart_at_px`, chart bars are painted."""
    top = screenshot(browser, page, folder / "top.png", 1000)
    assert painted(top, list(ACTION_COLOURS.values())) > 2000, "no summary at the top"
    whole = screenshot(browser, page, folder / "page.png", chart_at_px)
    counts = whole.getcolors(maxcolors=whole.width * whole.height)
    assert counts is not None
    assert max(n for n, _ in counts) < 0.85 * whole.width * whole.height, "the page is blank"
    assert painted(whole, [BAR]) > 2000, "no chart bars were painted"


def dom_svgs(browser: str, page: Path, profile: Path) -> tuple[str, list[str]]:
    dom = chromium(browser, profile, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not re.search(r"(src|href)=\"(https?:)?//", dom.stdout)
    return dom.stdout, re.findall(r"<svg\b.*?</svg>", dom.stdout, re.DOTALL)


def load_points(svg: str) -> int:
    line = re.search(r'<g id="[\w-]+-load-line">\s*<path\b[^>]*\bd="([^"]*)"', svg)
    assert line is not None
    return len(re.findall(r"[ML]", line.group(1)))


@pytest.mark.slow
@pytest.mark.debian("chromium")
def test_report_opens_offline_in_chromium_with_its_summary_and_charts_drawn(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    browser = debian.require("chromium")
    made = repflow(
        "report", "--db", str(sample_snapshot.with_name("warehouse.duckdb")), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    page = tmp_path / "reports" / "index.html"  # the default --out
    pairs, sessions = charted(sample_snapshot)
    assert f"{pairs} charts" in made.stdout

    _, svgs = dom_svgs(browser, page, tmp_path / "profile")
    assert len(svgs) == pairs
    for svg in svgs:  # every chart of the sample has a flag history
        assert re.search(r'<g id="[\w-]+-flags-\w+-load"[^>]*>.*?<use\b', svg, re.DOTALL)
    assert sum(load_points(svg) for svg in svgs) == sessions  # every session is on its line
    assert_summary_and_charts_painted(browser, page, tmp_path, 2400)


@pytest.fixture(scope="module")
def real_gym(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every real export as an athlete of its own, flags as of GYM_AS_OF; the working db."""
    root = tmp_path_factory.mktemp("gym")
    for export in sorted(REAL_DATA.rglob("*")):
        if export.is_file() and export.name != "README.md":
            (root / "inbox" / export.stem).mkdir(parents=True)
            shutil.copy(export, root / "inbox" / export.stem / export.name)
    # settle_s 0: the files were copied in just now, and are not being written
    config = load({"inbox": root / "inbox", "db": root / "warehouse.duckdb", "settle_s": 0})
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", GYM_AS_OF, skipped=skipped)
    return config.settings.db


@needs_real_data
@pytest.mark.slow
@pytest.mark.debian("chromium")
def test_the_real_gym_s_report_is_small_quick_and_painted(real_gym: Path, tmp_path: Path) -> None:
    browser = debian.require("chromium")
    snapshot = real_gym.with_name("analytics.duckdb")
    started = time.monotonic()
    made = repflow("report", "--db", str(real_gym), "--out", str(tmp_path / "out"), cwd=tmp_path)
    took = time.monotonic() - started
    assert made.returncode == 0, made.stderr
    assert took < MAX_SECONDS
    page = tmp_path / "out" / "index.html"
    assert page.stat().st_size < MAX_BYTES
    pairs, sessions = charted(snapshot)
    con = duckdb.connect(str(snapshot), read_only=True)
    athletes, all_pairs = con.execute(
        "SELECT count(DISTINCT athlete_id), count(DISTINCT (athlete_id, exercise_id)) FROM sets"
    ).fetchone() or (0, 0)
    con.close()
    assert athletes >= 13 and pairs < all_pairs / 2  # dormant exercises are most of them
    assert f"{pairs} charts" in made.stdout

    html, svgs = dom_svgs(browser, page, tmp_path / "profile")
    assert len(svgs) == pairs and sum(load_points(svg) for svg in svgs) == sessions
    assert "Flags as of Thu Nov 13, 2025" in html
    assert html.index('id="summary"') < html.index("<svg")
    # The summary of a gym fills the first screen or so; the first charts follow it.
    assert_summary_and_charts_painted(browser, page, tmp_path, 3000)
