"""Debian packages some tests need (chromium, postgresql), installed by the test setup if missing.

A fresh CI machine has neither, and installing them takes a minute, so one `apt-get` starts in the
background as soon as collection shows a test that needs a package, and only those tests wait for
it. Where nothing can be installed (not root, no apt-get, no registry) they are skipped with the
reason, and the rest of `make test` runs as usual.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

# Debian package -> a path glob that exists once it is installed.
PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "postgresql": "/usr/lib/postgresql/*/bin/initdb",
}
INSTALL_TIMEOUT_S = 900
LOCK = Path(tempfile.gettempdir()) / "repflow-apt.lock"

_install: subprocess.Popen[bytes] | None = None
_log = Path(tempfile.gettempdir()) / f"repflow-apt-{os.getpid()}.log"


def installed(package: str) -> str | None:
    found = sorted(glob.glob(PACKAGES[package]))
    return found[-1] if found else None


def start(packages: set[str]) -> None:
    """Begin installing whichever of `packages` is missing; returns at once."""
    global _install
    missing = sorted(p for p in packages if installed(p) is None)
    if not missing or _install is not None or os.geteuid() != 0:
        return
    if not (shutil.which("apt-get") and shutil.which("flock")):
        return
    # Under pytest-xdist every worker asks: flock makes them take turns, and a later one finds
    # the packages there (dpkg -s) and installs nothing.
    script = (
        f"flock {LOCK} sh -c 'dpkg -s {' '.join(missing)} >/dev/null 2>&1 || "
        "(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
        f"--no-install-recommends {' '.join(missing)})'"
    )
    with _log.open("wb") as log:
        _install = subprocess.Popen(
            ["sh", "-c", script], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def require(package: str) -> str:
    """The installed path for `package`, waiting for the background install; else skip the test."""
    if installed(package) is None and _install is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            _install.wait(timeout=INSTALL_TIMEOUT_S)
    path = installed(package)
    if path is None:
        if os.geteuid() != 0 or not (shutil.which("apt-get") and shutil.which("flock")):
            why = "the test setup can install it only as root with apt-get (and flock)"
        elif _install is None:
            why = "no install was started"
        else:
            tail = _log.read_text(errors="replace")[-400:] if _log.exists() else ""
            why = f"apt-get install failed: {tail.strip() or 'no output'}"
        pytest.skip(f"Debian package {package!r} is not installed; {why}")
    return path
