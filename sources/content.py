"""Reading a file once: its bytes as read (held in memory, or a private copy of a large file),
their sha256, and the file's identity, checked from discovery to the end of the read. What is
parsed is what was hashed; a file that changed meanwhile is left for the next run."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
# Files up to this size are held in memory between the read and the parse; a larger one is
# hashed, and copied to a private folder only when it is new (a re-read file is not copied).
HOLD_BYTES = 16 << 20
# The longest line a text file may have: no export comes near it (a long note is kilobytes), and
# reading one line costs about ten times its size in memory. A canonical CSV is read in batches and
# rejects such a line alone; the formats read whole fail the file (sources.read).
MAX_LINE_BYTES = 16 << 20


class ChangedWhileRead(Exception):
    """The file changed between discovery and the end of its read (a sync client replaced or
    truncated it), or is still being written: it is read again by the next run."""


@dataclass(frozen=True)
class Identity:
    """What tells one state of a file from the next without reading it."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, found: os.stat_result) -> Identity:
        return cls(found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


@dataclass(frozen=True)
class LongLine:
    """The first line of a file longer than MAX_LINE_BYTES."""

    number: int  # 1-based
    size: int  # as far as it was read when it passed the limit

    def __str__(self) -> str:
        return f"line {self.number} is longer than {MAX_LINE_BYTES:,} bytes, the limit a line"


class Held:
    """A file's bytes held in memory, read by the readers as they would read the file."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read_bytes(self) -> bytes:
        return self.data

    def open(self, mode: str = "rb") -> io.BytesIO:
        if mode != "rb":
            raise ValueError("held bytes open only for reading, as 'rb'")
        return io.BytesIO(self.data)


# What a reader reads: a file, or a file's bytes as one read saw them.
Source = Path | Held


@dataclass(frozen=True)
class Content:
    """A file as one read saw it: the sha256 and size of the bytes read, and those bytes, held
    (`data`) or copied (`copy`), when the reader asked to keep them."""

    sha256: str
    size: int
    identity: Identity
    long_line: LongLine | None
    data: bytes | None = None
    copy: Path | None = None

    def source(self) -> Source:
        """What a reader reads: the held bytes or the private copy (sources.read)."""
        if self.data is not None:
            return Held(self.data)
        assert self.copy is not None, "content read without keeping its bytes"
        return self.copy


class Scan:
    """The sha256, size and first over-long line of bytes seen a chunk at a time. Within a
    chunk no line can be longer than the chunk, so only the line that runs across chunks is
    counted: a find, a count and a reverse find per megabyte."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.lines = 0  # line breaks so far
        self.open = 0  # bytes of the line not ended yet
        self.long: LongLine | None = None

    def add(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)
        first = chunk.find(b"\n")
        if first < 0:
            self.open += len(chunk)
        else:
            self._check(self.open + first)
            self.lines += chunk.count(b"\n")
            self.open = len(chunk) - chunk.rfind(b"\n") - 1
        self._check(self.open)

    def _check(self, length: int) -> None:
        if self.long is None and length > MAX_LINE_BYTES:
            self.long = LongLine(self.lines + 1, length)


def read(
    path: Path,
    seen: Identity | None,
    settle_s: float = 0.0,
    keep: bool = True,
    copy_to: Path | None = None,
) -> Content:
    """Read `path` once, hashing its bytes, and keep them: held when `keep` and the file is
    small, else copied into the folder `copy_to` when given. `seen` is the file as found; a
    file that is not as it was then, changes while read, or was modified less than `settle_s`
    ago raises ChangedWhileRead. An OSError (unreadable, gone) is raised as it is."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise ChangedWhileRead("is no longer a regular file")
        _unchanged(seen, Identity.of(before), "since it was found")
        age = time.time() - before.st_mtime_ns / 1e9
        # A modification time further in the future is a clock's skew, not a write under way.
        if -1 < age < settle_s:
            raise ChangedWhileRead(f"modified {max(age, 0):.1f} s ago: still being written")
        scan = Scan()
        held: list[bytes] | None = [] if keep and before.st_size <= HOLD_BYTES else None
        sink, copy = (None, None)
        if copy_to is not None and held is None:
            sink, copy = _private_copy(copy_to, path.name)
        try:
            _read_all(handle, scan, held.append if held is not None else None, sink)
            after = Identity.of(os.fstat(fd))
            _unchanged(Identity.of(before), after, "while it was read")
            _unchanged(after, Identity.of(os.stat(path, follow_symlinks=False)), "while read")
            if scan.size != after.size:  # the size changed and changed back: a rewrite
                raise ChangedWhileRead(f"read {scan.size:,} bytes of {after.size:,} while read")
        except BaseException:
            if sink is not None and copy is not None:
                sink.close()
                copy.unlink(missing_ok=True)
            raise
        if sink is not None:
            sink.close()
    return Content(
        scan.digest.hexdigest(),
        scan.size,
        after,
        scan.long,
        None if held is None else b"".join(held),
        copy,
    )


def _read_all(
    handle: io.FileIO,
    scan: Scan,
    hold: Callable[[bytes], None] | None,
    sink: io.BufferedWriter | None,
) -> None:
    while chunk := handle.read(CHUNK):
        scan.add(chunk)
        if hold is not None:
            hold(chunk)
        if sink is not None:
            sink.write(chunk)


def _private_copy(folder: Path, name: str) -> tuple[io.BufferedWriter, Path]:
    fd, path = tempfile.mkstemp(prefix="copy-", suffix=Path(name).suffix[:16], dir=folder)
    return os.fdopen(fd, "wb"), Path(path)


def _unchanged(before: Identity | None, after: Identity, when: str) -> None:
    if before is None or before == after:
        return
    if (before.device, before.inode) != (after.device, after.inode):
        raise ChangedWhileRead(f"was replaced {when}")
    if before.size != after.size:
        raise ChangedWhileRead(f"changed size {when} ({before.size:,} to {after.size:,} bytes)")
    raise ChangedWhileRead(f"was modified {when}")
