"""Finding the night's files: the inbox walked, and the paths `repflow ingest` is given.

Every skip is reported with its reason; junk is listed apart as ignored (sources.junk).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from flows.config import Config
from schemas.set_row import is_athlete_id
from sources import junk
from sources.content import Identity
from sources.csv_text import UnreadableFile


@dataclass(frozen=True)
class Discovered:
    path: Path
    relative: str
    athlete_id: str | None
    seen: Identity | None = None  # the file as discovered; its read checks it is unchanged


class Ignored(str):
    """A skipped path that is junk (sources.junk): listed apart, as ignored, not as a problem."""


class Refused(str):
    """A path named on the command line that is not a file to read (a FIFO, a socket, a
    device): never opened, so never waited on; the run fails for it (exit 1)."""


class Unwalkable(str):
    """A folder that could not be walked (unreadable, too deep, a name too long): its files are
    not read, and the run fails for it (exit 1); every other folder loads."""


class UsageError(ValueError):
    """The command line names something that is not there: bad usage, nothing loads."""


# Folders below an athlete's folder that are walked; deeper ones fail alone, so no folder can
# exhaust the walk (an export nests three or four).
MAX_DEPTH = 64


def discover(inbox: Path) -> tuple[list[Discovered], list[str]]:
    """Files in `inbox/<athlete_id>/...` (any depth) and at its root, in a fixed order.

    Symbolic links are never followed; FIFOs, sockets and devices are skipped; so is a folder
    whose name is not a valid athlete_id. Each skip is reported. Junk (`.DS_Store`, a
    `.stversions` folder, `*.part`) is ignored, and listed as `Ignored`. A folder that cannot
    be walked (unreadable, too deep, a path too long) is `Unwalkable`: it fails alone.
    """
    if not inbox.is_dir():
        raise UnreadableFile(f"inbox {inbox} is not a folder")
    found: list[Discovered] = []
    skipped: list[str] = []
    try:
        entries = _entries(inbox)
    except OSError as exc:
        raise UnreadableFile(f"inbox {inbox} cannot be read: {exc.strerror or exc}") from None
    for entry in entries:
        try:
            mode = entry.stat(follow_symlinks=False)
        except OSError as exc:
            skipped.append(Unwalkable(f"{entry.name!r}: {exc.strerror or exc}: not read"))
            continue
        if junk.ignored(entry.name):
            skipped.append(Ignored(repr(entry.name)))
        elif stat.S_ISLNK(mode.st_mode):
            skipped.append(f"{entry.name!r}: a symbolic link, not followed")
        elif stat.S_ISDIR(mode.st_mode):
            if is_athlete_id(entry.name):
                found += _walk(inbox, Path(entry.path), entry.name, skipped)
            else:
                skipped.append(f"{entry.name!r}: not a valid athlete_id folder name")
        elif stat.S_ISREG(mode.st_mode):
            found.append(Discovered(Path(entry.path), entry.name, None, Identity.of(mode)))
        else:
            skipped.append(f"{entry.name!r}: not a regular file")
    found.sort(key=lambda d: (d.athlete_id or "", d.relative))
    return found, skipped


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as listing:
        return sorted(listing, key=lambda entry: entry.name)


def _walk(inbox: Path, folder: Path, athlete: str, skipped: list[str]) -> list[Discovered]:
    """Every file below `folder`, depth first in name order, without recursion: a folder too
    deep, or one that cannot be listed, is skipped as Unwalkable and the walk goes on."""
    found = []
    pending = [(folder, 0)]
    while pending:
        current, depth = pending.pop()
        shown = _shown(str(current.relative_to(inbox)))
        if depth > MAX_DEPTH:
            skipped.append(Unwalkable(f"{shown}: more than {MAX_DEPTH} folders deep: not read"))
            continue
        try:
            entries = _entries(current)
        except OSError as exc:
            skipped.append(Unwalkable(f"{shown}: {exc.strerror or exc}: not read"))
            continue
        folders = []
        for entry in entries:
            path = Path(entry.path)
            relative = str(path.relative_to(inbox))
            try:
                mode = entry.stat(follow_symlinks=False)
            except OSError as exc:
                skipped.append(Unwalkable(f"{_shown(relative)}: {exc.strerror or exc}: not read"))
                continue
            if junk.ignored(entry.name):
                skipped.append(Ignored(repr(relative)))  # nothing below a junk folder is read
            elif stat.S_ISLNK(mode.st_mode):
                skipped.append(f"{relative!r}: a symbolic link, not followed")
            elif stat.S_ISDIR(mode.st_mode):
                folders.append((path, depth + 1))
            elif stat.S_ISREG(mode.st_mode):
                found.append(Discovered(path, relative, athlete, Identity.of(mode)))
            else:
                skipped.append(f"{relative!r}: not a regular file")
        pending += reversed(folders)
    return found


def _shown(relative: str) -> str:
    """A path as a message shows it: quoted, and a very long one shortened in the middle."""
    return repr(relative if len(relative) <= 160 else f"{relative[:100]}…{relative[-50:]}")


def inbox_files(config: Config) -> tuple[list[Discovered], list[str]]:
    return discover(config.settings.inbox)


def named_files(
    paths: list[Path], athlete: str | None, config: Config
) -> tuple[list[Discovered], list[str]]:
    """What `repflow ingest` reads: each file named, and each folder read like an inbox (its
    athlete folders; with `--athlete`, every file in it). A file under the inbox keeps its
    inbox athlete and path, so replaying it updates the same record the nightly run wrote.
    Also gives what was skipped, ignored or refused, as `discover` does: a symbolic link named
    that leads out of its own folder is refused, as the nightly walk never follows one.

    A path that does not exist, or an `athlete` that is no athlete_id, is a UsageError, before
    anything is read."""
    if athlete is not None and not is_athlete_id(athlete):
        raise UsageError(
            f"--athlete {athlete!r} is not a valid athlete_id: 1 to 64 letters, digits and "
            "_ . @ -, not only dots (as an inbox folder's name)"
        )
    missing = [str(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")
    inbox = config.settings.inbox.resolve()
    found: list[Discovered] = []
    skipped: list[str] = []
    for path in paths:
        target = path.resolve()
        if path.is_symlink() and not target.is_relative_to(path.parent.resolve()):
            reason = f"a symbolic link to {target}, outside its folder: not followed"
            skipped.append(Refused(f"{str(path)!r}: {reason}"))
            continue
        try:
            found_stat = target.stat()
        except OSError as exc:
            skipped.append(Refused(f"{str(path)!r}: {exc.strerror or exc}: not read"))
            continue
        if stat.S_ISDIR(found_stat.st_mode):
            found += _folder(path, athlete, inbox, skipped)
        elif stat.S_ISREG(found_stat.st_mode):
            found.append(_named(target, path, athlete, inbox, Identity.of(found_stat)))
        else:
            reason = "not a regular file (a FIFO, socket or device): not read"
            skipped.append(Refused(f"{str(path)!r}: {reason}"))
    return found, skipped


def _named(
    target: Path, shown: Path, athlete: str | None, inbox: Path, seen: Identity
) -> Discovered:
    if target.is_relative_to(inbox) and athlete is None:
        relative = target.relative_to(inbox)
        owner = relative.parts[0] if len(relative.parts) > 1 else None
        return Discovered(target, str(relative), owner, seen)
    return Discovered(target, str(shown), athlete, seen)


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
    return [replace(d, relative=str(d.path)) for d in found]
