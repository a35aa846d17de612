"""Progress while a run loads files: what pipeline reports, and how the CLI renders it."""

from __future__ import annotations

import re
from io import StringIO

from rich.console import Console

from flows import pipeline
from flows.progress import ACTIVE, Bar, LogLines, renderer
from tests.conftest import Workspace, csv_text, repflow
from warehouse.load import FileInfo, FileOutcome

ROWS = [
    "2026-11-16T07:00:00,Bench Press,10,60,kg,,working",
    "2026-11-16T07:03:00,Bench Press,10,60,kg,,working",
    "2026-11-16T07:06:00,Bench Press,ten,60,kg,,working",
]


class Recorder:
    def __init__(self) -> None:
        self.begun: list[tuple[int, int]] = []
        self.done: list[tuple[str, str, float]] = []

    def begin(self, files: int, seen_before: int) -> None:
        self.begun.append((files, seen_before))

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        self.done.append((info.path, outcome.status, elapsed_s))


def test_pipeline_reports_new_files_and_counts_those_seen_before(workspace: Workspace) -> None:
    workspace.write("a1/first.csv", csv_text(*ROWS[:1]))
    config = workspace.config()
    pipeline.execute(config, pipeline.inbox_files(config)[0], "ingest", None)
    workspace.write("a1/second.csv", csv_text(*ROWS[1:]))
    workspace.write("a1/broken.csv", "performed_at,exercise\n")
    recorder = Recorder()
    pipeline.execute(config, pipeline.inbox_files(config)[0], "ingest", None, progress=recorder)
    assert recorder.begun == [(2, 1)]
    assert [(path, status) for path, status, _ in recorder.done] == [
        ("a1/broken.csv", "failed"),
        ("a1/second.csv", "loaded"),
    ]
    assert all(elapsed >= 0 for _, _, elapsed in recorder.done)


def test_ingest_without_a_terminal_logs_one_line_per_file(workspace: Workspace) -> None:
    path = workspace.write("a1/export.csv", csv_text(*ROWS))
    result = repflow("ingest", str(path), cwd=workspace.root)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "1 file(s) to read, 0 loaded by earlier runs"
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
        observer.begin(3, 4)
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


def test_the_renderer_follows_the_terminal_and_quiet() -> None:
    plain = Console(file=StringIO(), force_terminal=False)
    with renderer(plain, quiet=False) as observer:
        assert isinstance(observer, LogLines)
    with renderer(Console(file=StringIO(), force_terminal=True), quiet=True) as observer:
        assert observer is None and ACTIVE.get() is None
