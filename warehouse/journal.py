"""The runs journal: `<db>.runs.jsonl` beside the working database, one JSON object a line,
only ever appended. It keeps what the warehouse may be unable to: every run's start and end
(also a run that found the warehouse locked, damaged or its disk full) and the file a run is
about to parse, so a run killed in a parse is named by the next. docs/operations.md."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from warehouse.lake import Lake, redact

SUFFIX = ".runs.jsonl"
# At a run's start a journal past this size moves to `<journal>.1` (replacing the one before), so
# the pair stays bounded: about 40,000 runs, or fewer on nights of many files.
ROTATE_BYTES = 8 << 20
# Kept allocated past the end of the file, so that the end of a run whose disk filled up still
# fits: the disk is full for the warehouse, not for this reserve.
RESERVE_BYTES = 64 << 10
FALLOC_FL_KEEP_SIZE = 1


def journal_path(where: Path | Lake, db: Path) -> Path:
    """Beside the working database (its real path); beside a SQLite catalog; for a PostgreSQL
    lake, which no one folder holds, beside the `db` setting of the machine that runs."""
    if isinstance(where, Path):
        base = where.resolve()
    elif where.kind == "sqlite":
        base = Path(where.catalog).resolve()
    else:
        base = db.resolve()
    return base.with_name(base.name + SUFFIX)


class Journal:
    """Appends to the journal at `path`, one record per write(2). Writing is best effort: a
    journal that cannot be written (a read-only folder) never stops a run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> Journal:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._fd = os.open(self.path, flags, 0o644)
            _reserve(self._fd)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def rotate(self) -> None:
        """Start a new file when this one is large (call it holding the run lock)."""
        with contextlib.suppress(OSError):
            if self.path.stat().st_size > ROTATE_BYTES:
                os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                self.__exit__(None, None, None)
                self.__enter__()

    def write(self, event: str, **fields: Any) -> None:
        """Append one record: the event, the time, and `fields` (a run_id among them)."""
        if self._fd is None:
            return
        record = {"event": event, "at": datetime.now().astimezone(), **fields}
        line = json.dumps(record, default=str, ensure_ascii=True) + "\n"
        with contextlib.suppress(OSError):  # a full disk past the reserve: the run goes on
            os.write(self._fd, redact(line).encode())
            _reserve(self._fd)


def _reserve(fd: int) -> None:
    """Keep RESERVE_BYTES allocated past the end of the file (Linux; elsewhere nothing)."""
    fallocate = getattr(_libc(), "fallocate", None)
    if fallocate is not None:
        fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        fallocate(fd, FALLOC_FL_KEEP_SIZE, os.fstat(fd).st_size, RESERVE_BYTES)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def read(path: Path) -> list[dict[str, Any]]:
    """Every record of the journal at `path` and the one rotated before it, oldest first."""
    records: list[dict[str, Any]] = []
    for part in (path.with_name(path.name + ".1"), path):
        with contextlib.suppress(OSError):
            records += _records(part.read_bytes())
    return records


TAIL_BYTES = 1 << 20


def tail(path: Path) -> list[dict[str, Any]]:
    """The records in the last TAIL_BYTES of the journal: enough to find the runs since the last
    that ended, without reading a year of them at every run's start."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - TAIL_BYTES, 0))
            data = handle.read()
    except OSError:
        return []
    return _records(data if size <= TAIL_BYTES else data.split(b"\n", 1)[-1])


def _records(data: bytes) -> list[dict[str, Any]]:
    """The records of journal text. A line cut short by a killed write, or that is not a
    record, is skipped."""
    records = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("run_id"), str):
            records.append(record)
    return records


@dataclass(frozen=True)
class Interrupted:
    """A run that started and never ended: killed (SIGKILL, out of memory) or a power cut."""

    run_id: str
    started_at: str
    parsing: str | None  # the file it was about to parse when it died, if any
    files: int = 1  # the files of that file's batch: the one that killed it is one of them

    def __str__(self) -> str:
        where = f" while it parsed {self.parsing!r}" if self.parsing else ""
        if self.parsing and self.files > 1:
            where += f" and {self.files - 1} more file{'s' * (self.files > 2)} of its batch"
        return f"run {self.run_id} (started {self.started_at}) ended without a record{where}"


def interrupted(records: list[dict[str, Any]], current: str) -> list[Interrupted]:
    """Runs that never ended since the last run that did, `current` aside: what the next run
    reports once."""
    ended = {r["run_id"] for r in records if r.get("event") == "end"}
    since = max((i for i, r in enumerate(records) if r.get("event") == "end"), default=-1)
    found: dict[str, Interrupted] = {}
    for record in records[since + 1 :]:
        run_id = record["run_id"]
        if run_id in ended or run_id == current:
            continue
        started = found[run_id].started_at if run_id in found else str(record.get("at", ""))
        if record.get("event") == "start":
            found[run_id] = Interrupted(run_id, started, None)
        elif record.get("event") == "parse":  # its start may be before the tail read
            files = int(record.get("files", 1))
            found[run_id] = Interrupted(run_id, started, str(record.get("path")), files)
    return list(found.values())


# The columns of `runs` that `repflow status` shows; a journal run fills what it knows.
RUN_COLUMNS = (
    "run_id",
    "command",
    "status",
    "started_at",
    "finished_at",
    "files_loaded",
    "files_duplicate",
    "files_failed",
    "rows_loaded",
    "rows_revised",
    "rows_rejected",
    "flags_emitted",
    "error",
)


def runs(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run the journal saw, as `runs` would hold it. A run that started and never
    ended is `interrupted`, with the file it was parsing."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        run_id, event = record["run_id"], record.get("event")
        row = rows.setdefault(run_id, dict.fromkeys((*RUN_COLUMNS, "pid")) | {"run_id": run_id})
        if event == "start":
            row.update(command=record.get("command"), started_at=record.get("at"))
            row["pid"] = record.get("pid")
            row.update(status="interrupted", error=str(Interrupted(run_id, record["at"], None)))
        elif event == "parse" and row["status"] == "interrupted":
            files = int(record.get("files", 1))
            parsing = Interrupted(run_id, str(row["started_at"]), str(record.get("path")), files)
            row["error"] = str(parsing)
        elif event == "end":
            row.update({k: record.get(k) for k in RUN_COLUMNS if k in record})
            row["finished_at"] = record.get("at")
    return list(rows.values())
