"""The report as a coach sees it: opened from disk in headless Chromium, charts drawn."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import duckdb
import pytest
from PIL import Image

from report.charts import BAR
from tests import debian
from tests.conftest import repflow

WIDTH, HEIGHT = 1200, 3200


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


@pytest.mark.slow
@pytest.mark.debian("chromium")
def test_report_opens_offline_in_chromium_with_its_charts_drawn(
    sample_snapshot: Path, tmp_path: Path
) -> None:
    browser = debian.require("chromium")
    made = repflow(
        "report", "--db", str(sample_snapshot.with_name("warehouse.duckdb")), cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    page = tmp_path / "reports" / "index.html"  # the default --out
    con = duckdb.connect(str(sample_snapshot), read_only=True)
    counted = con.execute(
        "SELECT count(DISTINCT (athlete_id, exercise_id)), count(DISTINCT (athlete_id, "
        "exercise_id, session_id)) FROM sets "
        "WHERE set_type IN ('working', 'failure') AND reps IS NOT NULL"
    ).fetchone()
    con.close()
    assert counted is not None
    pairs, sessions = counted
    assert f"{pairs} charts" in made.stdout

    dom = chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    svgs = re.findall(r"<svg\b.*?</svg>", dom.stdout, re.DOTALL)
    assert len(svgs) == pairs
    points = 0
    for svg in svgs:
        assert re.search(r'<g id="[\w-]+-flags-\w+-load">.*?<use\b', svg, re.DOTALL)
        line = re.search(r'<g id="[\w-]+-load-line">\s*<path\b[^>]*\bd="([^"]*)"', svg)
        assert line is not None
        points += len(re.findall(r"[ML]", line.group(1)))
    assert points == sessions  # every session of every chart is on its load line
    assert not re.search(r"(src|href)=\"(https?:)?//", dom.stdout)

    shot = tmp_path / "report.png"
    taken = chromium(
        browser,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert taken.returncode == 0 and shot.exists(), taken.stderr[-2000:]
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = image.getcolors(maxcolors=WIDTH * HEIGHT)
    assert colours is not None
    assert max(n for n, _ in colours) < 0.85 * WIDTH * HEIGHT, "the page is blank"
    bar = rgb(BAR)
    bars = sum(n for n, c in colours if max(abs(a - b) for a, b in zip(c, bar, strict=True)) <= 6)
    assert bars > 2000, "no chart bars were painted"
