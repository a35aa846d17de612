"""Progress while a run loads files: what pipeline reports, and how the CLI renders it."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from rich.console import Console

import sources.csv_text
from flows import discovery, pipeline
from flows.progress import ACTIVE, Bar, LogLines, charts, renderer
from tests.conftest import Workspace, csv_text, repflow
from warehouse.load import FileInfo, FileOutcome

ROWS = [
    "2026-11-16T07:00:00,Bench Press,10,60,kg,,working",
    "2026-11-16T07:03:00,Bench Press,10,60,kg,,working",
    "2026-11-16T07:06:00,Bench Press,ten,60,kg,,working",
]


class Recorder:
    def __init__(self) -> None:
        self.begun: list[int] = []
        self.read: list[tuple[str, int]] = []
        self.done: list[tuple[str, str, float]] = []
        self.passed_by: list[tuple[str, str | None]] = []
        self.batches = 0

    def begin(self, files: int) -> None:
        self.begun.append(files)

    def passed(self, path: str, why: str | None) -> None:
        self.passed_by.append((path, why))

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        self.read.append((info.path, done_bytes))

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        self.done.append((info.path, outcome.status, elapsed_s))

    def batch_done(self) -> None:
        self.batches += 1


def test_pipeline_reports_new_files_and_counts_those_seen_before(workspace: Workspace) -> None:
    workspace.write("a1/first.csv", csv_text(*ROWS[:1]))
    config = workspace.config()
    pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None)
    workspace.write("a1/second.csv", csv_text(*ROWS[1:]))
    workspace.write("a1/broken.csv", "performed_at,exercise\n")
    recorder = Recorder()
    pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None, progress=recorder)
    assert recorder.begun == [3]
    assert recorder.passed_by == [("a1/first.csv", None)]  # loaded by the run before
    assert [(path, status) for path, status, _ in recorder.done] == [
        ("a1/broken.csv", "failed"),
        ("a1/second.csv", "loaded"),
    ]
    assert all(elapsed >= 0 for _, _, elapsed in recorder.done)
    assert recorder.batches == 1  # three small files: one batch


def test_pipeline_reports_how_far_a_large_file_is_read(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources.csv_text, "BATCH_BYTES", 1000)
    rows = [
        f"2026-11-{day:02d}T07:{minute:02d}:00,Squat,5,60,kg,,"
        for day in range(1, 29)
        for minute in range(10)
    ]
    text = csv_text(*rows)
    workspace.write("a1/big.csv", text)
    workspace.write("a1/small.csv", csv_text(*ROWS))
    recorder = Recorder()
    config = workspace.config()
    pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None, progress=recorder)

    header = len(text.split("\n", 1)[0]) + 1
    assert {path for path, _ in recorder.read} == {"a1/big.csv"}  # a one-batch file: no report
    done = [done for _, done in recorder.read]
    assert len(done) >= len(text) // 1000 and done == sorted(set(done))
    assert done[-1] == len(text) - header  # every record's bytes, the header's aside
    assert [path for path, _, _ in recorder.done] == ["a1/big.csv", "a1/small.csv"]


def test_ingest_without_a_terminal_logs_one_line_per_file(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", csv_text(*ROWS))
    result = repflow("ingest", str(path), cwd=workspace.root)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "1 file(s) found"
    assert re.fullmatch(
        r"loaded +a1/export\.csv \(canonical_csv\): 2 new, 1 rejected \[\d+\.\d\d s\]", lines[1]
    )
    assert "2 new" in result.stdout  # the summary stays on stdout
    assert "a1/export.csv" not in result.stdout


def test_quiet_ingest_prints_only_the_summary(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", csv_text(*ROWS))
    result = repflow("ingest", "--quiet", str(path), cwd=workspace.root)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("run ") and "1 rejected" in result.stdout


def info(path: str) -> FileInfo:
    return FileInfo(file_id=path, path=path, sha256="0" * 64, bytes=1, athlete_id="a1")


def test_the_bar_counts_files_rows_and_rejects_and_keeps_failures_on_screen() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with renderer(console, quiet=False) as observer:
        assert isinstance(observer, Bar) and ACTIVE.get() is observer
        observer.begin(3)
        observer.file_done(
            info("a1/x.csv"), FileOutcome("loaded", "strong_csv", None, 5, 2, 0, 1), 0.1
        )
        observer.file_done(
            info("a1/y.csv"), FileOutcome("failed", error="unrecognised format"), 0.1
        )
        observer.file_done(
            info("a1/z.csv"), FileOutcome("loaded", "hevy_csv", None, 3, 0, 0, 4), 0.1
        )
    assert ACTIVE.get() is None
    text = screen.getvalue()
    final = text.rsplit("\r", 1)[-1]  # the bar as it was left on screen
    assert "3/3 files" in final
    assert f"{5 + 2 + 3} rows stored" in final and f"{1 + 4} rejected" in final
    assert "failed     a1/y.csv: unrecognised format" in text


def test_the_bar_shows_a_large_file_while_it_is_read_then_lets_it_go() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    big = FileInfo(
        file_id="b", path="a1/x[/y]big.csv", sha256="0" * 64, bytes=3 * 10**6, athlete_id="a1"
    )
    with Bar(console) as bar:
        bar.begin(1)
        bar.reading(big, 10**6)
        bar.bar.refresh()
        while_reading = screen.getvalue()
        bar.file_done(big, FileOutcome("loaded", "canonical_csv", None, 7, 0, 0, 0), 1.0)
        assert [task.description for task in bar.bar.tasks] == ["loading"]
    assert "a1/x[/y]big.csv" in while_reading and "1 of 3 MB read" in while_reading
    assert "1/1 files · 7 rows stored · 0 rejected" in screen.getvalue().rsplit("\r", 1)[-1]


def test_the_log_has_a_line_at_each_quarter_of_a_large_file() -> None:
    screen = StringIO()
    console = Console(file=screen, force_terminal=False, width=200)
    lines = LogLines(lambda line: console.print(line, markup=False))
    big = FileInfo(file_id="b", path="a1/big.csv", sha256="0" * 64, bytes=1000, athlete_id="a1")
    for done in (100, 260, 300, 510, 990, 1000):
        lines.reading(big, done)
    lines.file_done(big, FileOutcome("loaded", "canonical_csv", None, 7, 0, 0, 0), 1.0)
    lines.reading(big, 300)  # the next large file starts again at its first quarter
    lines.reading(big, 600)
    lines.reading(big, 400)  # read again from the start: a re-export that is read in full
    assert screen.getvalue().splitlines()[:3] == [
        "reading    a1/big.csv: 25%",
        "reading    a1/big.csv: 50%",
        "reading    a1/big.csv: 75%",
    ]
    assert screen.getvalue().splitlines()[-3:] == [
        "reading    a1/big.csv: 25%",
        "reading    a1/big.csv: 50%",
        "reading    a1/big.csv: 25%",
    ]


def test_the_log_writes_a_batch_s_lines_at_once_once_it_is_stored_in_file_order() -> None:
    said: list[str] = []
    lines = LogLines(said.append)
    loaded = FileOutcome("loaded", "canonical_csv", None, 7, 0, 0, 0)
    for name in ("a1/one.csv", "a1/two.csv"):
        info = FileInfo(file_id=name, path=name, sha256="0" * 64, bytes=10, athlete_id="a1")
        lines.file_done(info, loaded, 0.5)
    lines.passed("a1/three.csv", "changed while it was read")
    lines.passed("a1/four.csv", None)  # loaded by an earlier run: no line
    assert said == []
    lines.batch_done()
    lines.batch_done()  # nothing new: nothing written
    assert len(said) == 1
    written = said[0].splitlines()
    assert [line.split()[1].rstrip(":") for line in written] == [
        "a1/one.csv",
        "a1/two.csv",
        "a1/three.csv",
    ]
    assert "changed while it was read" in written[2]


def test_the_renderer_follows_the_terminal_and_quiet() -> None:
    plain = Console(file=StringIO(), force_terminal=False)
    with renderer(plain, quiet=False) as observer:
        assert isinstance(observer, LogLines)
    with renderer(Console(file=StringIO(), force_terminal=True), quiet=True) as observer:
        assert observer is None and ACTIVE.get() is None


def test_the_report_s_chart_bar_is_for_terminals_only() -> None:
    with charts(Console(file=StringIO(), force_terminal=False)) as drawn:
        assert drawn is None
    screen = StringIO()
    with charts(Console(file=screen, force_terminal=True, width=100)) as drawn:
        assert drawn is not None
        drawn(3, 8)
    assert "drawing charts" in screen.getvalue() and "3/8" in screen.getvalue()
