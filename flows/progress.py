"""How `run` and `ingest` show a run's progress: a rich bar on a terminal, log lines otherwise.

flows.pipeline reports each file through its `Progress` protocol and knows nothing of terminals;
the CLI picks a renderer here. Both write to stderr, so stdout keeps only the run summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from flows.loading import Progress as Observer
from flows.printable import printable
from flows.summary import deferred_line, file_line
from warehouse.load import FileInfo, FileOutcome

# The renderer of an in-process `repflow run`, read by the nightly flow. A context variable, not
# a flow parameter: an observer is not data a deployment could carry. It lives here, not in
# flows/nightly.py, because a served flow is pickled, and a ContextVar cannot be.
ACTIVE: ContextVar[Observer | None] = ContextVar("ACTIVE", default=None)
MB = 1_000_000


def stored(outcome: FileOutcome) -> int:
    """Rows a file added or changed in `sets`."""
    return outcome.loaded + outcome.revised


class LogLines:
    """One plain line per file (what, format, rows, rejects, time): for logs, cron and CI, and
    the flow run's log in Prefect. A large file also gets a line at each quarter read.

    `say` writes lines: to a console, or to a logger. A batch's lines are written together once
    it is stored, when they are all known: a log record a file cost more than a small file's
    parse."""

    def __init__(self, say: Callable[[str], object]) -> None:
        self.say = say
        self.quarters = 0  # of the large file being read, logged so far
        self.done = 0
        self.pending: list[str] = []  # the batch's lines, not written yet

    def begin(self, files: int) -> None:
        self.say(f"{files} file(s) found")

    def batch_done(self) -> None:
        if self.pending:
            self.say("\n".join(self.pending))
            self.pending = []

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        # A line at each quarter: a log shows that a long file goes on, without a line a batch.
        if done_bytes < self.done:  # read again from the start (a re-export read in full)
            self.quarters = 0
        self.done = done_bytes
        quarters = min(4 * done_bytes // max(info.bytes, 1), 3)
        if quarters > self.quarters:
            self.quarters = quarters
            self.batch_done()  # the lines before it first
            self.say(f"reading    {printable(info.path)}: {25 * quarters}%")

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        self.quarters = self.done = 0
        self.pending.append(f"{printable(file_line(info, outcome))} [{elapsed_s:.2f} s]")

    def passed(self, path: str, why: str | None) -> None:
        if why is not None:  # a file loaded by an earlier run gets no line
            self.pending.append(printable(deferred_line(path, why)))


class Bar:
    """A live bar on a terminal: files done of total, rows stored and rejects so far; under it,
    while a large file is read, a bar of its bytes.

    A failed file is also printed above the bar, so it stays on screen when the bar ends."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.files = 0
        self.rows = 0
        self.rejects = 0
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        # Until begin() counts the files the total is unknown, and the bar pulses.
        self.task: TaskID = self.bar.add_task("loading", total=None, detail="")
        self.file: TaskID | None = None  # the large file being read

    def __enter__(self) -> Bar:
        self.bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.bar.stop()

    def begin(self, files: int) -> None:
        self.bar.update(self.task, total=files, detail=self._detail(files))

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        if self.file is None:
            self.file = self.bar.add_task(escape(printable(info.path)), total=info.bytes, detail="")
        done = min(done_bytes, info.bytes)
        detail = f"{done / MB:,.0f} of {info.bytes / MB:,.0f} MB read"
        self.bar.update(self.file, completed=done, detail=detail)

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        if self.file is not None:
            self.bar.remove_task(self.file)
            self.file = None
        self.files += 1
        self.rows += stored(outcome)
        self.rejects += outcome.rejected
        if outcome.status == "failed":
            self.bar.console.print(printable(file_line(info, outcome)), markup=False)
        total = self.bar.tasks[0].total
        self.bar.update(self.task, advance=1, detail=self._detail(total))

    def passed(self, path: str, why: str | None) -> None:
        if why is not None:
            self.bar.console.print(printable(deferred_line(path, why)), markup=False)
        self.bar.update(self.task, advance=1, detail=self._detail(self.bar.tasks[0].total))

    def batch_done(self) -> None:
        pass  # the bar moves with each file

    def _detail(self, files: float | None) -> str:
        of = "?" if files is None else f"{files:.0f}"
        return f"{self.files}/{of} files · {self.rows} rows stored · {self.rejects} rejected"


class Both:
    """Tells two observers each step: the CLI's renderer and the flow run's log."""

    def __init__(self, first: Observer, second: Observer) -> None:
        self.observers = (first, second)

    def begin(self, files: int) -> None:
        for observer in self.observers:
            observer.begin(files)

    def reading(self, info: FileInfo, done_bytes: int) -> None:
        for observer in self.observers:
            observer.reading(info, done_bytes)

    def file_done(self, info: FileInfo, outcome: FileOutcome, elapsed_s: float) -> None:
        for observer in self.observers:
            observer.file_done(info, outcome, elapsed_s)

    def passed(self, path: str, why: str | None) -> None:
        for observer in self.observers:
            observer.passed(path, why)

    def batch_done(self) -> None:
        for observer in self.observers:
            observer.batch_done()


@contextmanager
def renderer(console: Console, quiet: bool) -> Iterator[Observer | None]:
    """The bar when `console` is a terminal, log lines when it is not, nothing when quiet; also
    the ACTIVE observer while the block runs."""
    with ExitStack() as stack:
        observer: Observer | None = None
        if not quiet:
            observer = (
                stack.enter_context(Bar(console))
                if console.is_terminal
                else LogLines(lambda line: console.print(line, markup=False))
            )
        token = ACTIVE.set(observer)
        try:
            yield observer
        finally:
            ACTIVE.reset(token)


@contextmanager
def charts(console: Console) -> Iterator[Callable[[int, int], None] | None]:
    """A bar of the report's charts drawn, on a terminal; nothing otherwise (a report is made
    by hand, and says what it wrote when it is done)."""
    if not console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("[bold]drawing charts"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("charts", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
