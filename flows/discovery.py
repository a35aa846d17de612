"""Finding the night's files: the inbox walked, and the paths `repflow ingest` is given.

Every skip is reported with its reason; junk is listed apart as ignored (sources.junk).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from flows.config import Config
from schemas.set_row import is_athlete_id
from sources import junk
from sources.csv_text import UnreadableFile


@dataclass(frozen=True)
class Discovered:
    path: Path
    relative: str
    athlete_id: str | None


class Ignored(str):
    """A skipped path that is junk (sources.junk): listed apart, as ignored, not as a problem."""


class Refused(str):
    """A path named on the command line that is not a file to read (a FIFO, a socket, a
    device): never opened, so never waited on; the run fails for it (exit 1)."""


class UsageError(ValueError):
    """The command line names something that is not there: bad usage, nothing loads."""


def discover(inbox: Path) -> tuple[list[Discovered], list[str]]:
    """Files in `inbox/<athlete_id>/...` (any depth) and at its root, in a fixed order.

    Symbolic links are never followed; FIFOs, sockets and devices are skipped; so is a folder
    whose name is not a valid athlete_id. Each skip is reported. Junk (`.DS_Store`, a
    `.stversions` folder, `*.part`) is ignored, and listed as `Ignored`.
    """
    if not inbox.is_dir():
        raise UnreadableFile(f"inbox {inbox} is not a folder")
    found: list[Discovered] = []
    skipped: list[str] = []
    for entry in sorted(inbox.iterdir()):
        mode = entry.lstat().st_mode
        if junk.ignored(entry.name):
            skipped.append(Ignored(repr(entry.name)))
        elif stat.S_ISLNK(mode):
            skipped.append(f"{entry.name!r}: a symbolic link, not followed")
        elif stat.S_ISDIR(mode):
            if is_athlete_id(entry.name):
                found += _walk(inbox, entry, entry.name, skipped)
            else:
                skipped.append(f"{entry.name!r}: not a valid athlete_id folder name")
        elif stat.S_ISREG(mode):
            found.append(Discovered(entry, entry.name, None))
        else:
            skipped.append(f"{entry.name!r}: not a regular file")
    found.sort(key=lambda d: (d.athlete_id or "", d.relative))
    return found, skipped


def _walk(inbox: Path, folder: Path, athlete: str, skipped: list[str]) -> list[Discovered]:
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in [d for d in dirs if junk.ignored(d)]:
            skipped.append(Ignored(repr(str(Path(root, name).relative_to(inbox)))))
            dirs.remove(name)  # nothing below a junk folder is read
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if Path(root, d).is_symlink()]:
            path = Path(root, name)
            relative = str(path.relative_to(inbox))
            mode = path.lstat().st_mode
            if junk.ignored(name):
                skipped.append(Ignored(repr(relative)))
            elif stat.S_ISLNK(mode):
                skipped.append(f"{relative!r}: a symbolic link, not followed")
            elif stat.S_ISREG(mode):
                found.append(Discovered(path, relative, athlete))
            else:
                skipped.append(f"{relative!r}: not a regular file")
    return found


def inbox_files(config: Config) -> tuple[list[Discovered], list[str]]:
    return discover(config.settings.inbox)


def named_files(
    paths: list[Path], athlete: str | None, config: Config
) -> tuple[list[Discovered], list[str]]:
    """What `repflow ingest` reads: each file named, and each folder read like an inbox (its
    athlete folders; with `--athlete`, every file in it). A file under the inbox keeps its
    inbox athlete and path, so replaying it updates the same record the nightly run wrote.
    Also gives what was skipped, ignored or refused, as `discover` does.

    A path that does not exist is a UsageError, before anything is read."""
    missing = [str(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    inbox = config.settings.inbox.resolve()
    found: list[Discovered] = []
    skipped: list[str] = []
    for path in paths:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            found += _folder(path, athlete, inbox, skipped)
        elif stat.S_ISREG(mode):
            found.append(_named(path, path, athlete, inbox))
        else:
            reason = "not a regular file (a FIFO, socket or device): not read"
            skipped.append(Refused(f"{str(path)!r}: {reason}"))
    return found, skipped


def _named(path: Path, shown: Path, athlete: str | None, inbox: Path) -> Discovered:
    resolved = path.resolve()
    if resolved.is_relative_to(inbox) and athlete is None:
        relative = resolved.relative_to(inbox)
        owner = relative.parts[0] if len(relative.parts) > 1 else None
        return Discovered(path, str(relative), owner)
    return Discovered(path, str(shown), athlete)


def _folder(folder: Path, athlete: str | None, inbox: Path, skipped: list[str]) -> list[Discovered]:
    """A folder named on the command line, read as the inbox is (junk ignored, links and
    FIFOs skipped): the inbox itself, an athlete's folder in it, any folder of athlete
    folders, or with `athlete` any folder of that athlete's files."""
    if athlete is None and folder.resolve() == inbox:
        found, skips = discover(inbox)
        skipped += skips
        return found
    if athlete is None and folder.resolve().is_relative_to(inbox):
        owner = folder.resolve().relative_to(inbox).parts[0]
        if not is_athlete_id(owner):
            raise UsageError(f"{folder}: not inside an athlete's folder of the inbox")
        return _walk(inbox, folder.resolve(), owner, skipped)
    if athlete is None:
        found, skips = discover(folder)
        skipped += skips
    else:
        found = _walk(folder, folder, athlete, skipped)
    # Outside the inbox a file is recorded under the path it was named by.
    return [Discovered(d.path, str(d.path), d.athlete_id) for d in found]
