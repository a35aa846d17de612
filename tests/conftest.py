"""Shared fixtures: a workspace with an inbox and a warehouse in tmp_path, and CSV helpers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows import discovery, parsing, pipeline
from flows.config import Config, load
from flows.parsing import ParsedFile
from sources import content
from tests import debian
from warehouse.load import FileOutcome

ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = ROOT.parent / "shared" / "data" / "real"
# Tests over the real exports run where ../shared is beside the clone (CI has it); a clone on
# its own skips them, saying why, and its own fixtures in tests/ cover every quirk.
needs_real_data = pytest.mark.skipif(
    not REAL_DATA.is_dir(), reason=f"the real exports are not here ({REAL_DATA})"
)
CANONICAL_HEADER = "performed_at,exercise,reps,load,unit,rpe,set_type"


@dataclass
class Workspace:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def snapshot(self) -> Path:
        return self.root / "analytics.duckdb"

    @property
    def journal(self) -> Path:
        return self.root / "warehouse.duckdb.runs.jsonl"

    def config(self, **overrides: Any) -> Config:
        # Tests write their files just before they load them: they count as settled at once.
        return load({"inbox": self.inbox, "db": self.db, "settle_s": 0, **overrides})

    def write(self, relative: str, text: str) -> Path:
        path = self.inbox / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def query(self, sql: str, params: list[Any] | None = None, db: Path | None = None) -> list[Any]:
        con = duckdb.connect(str(db or self.db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        return self.query(sql, params)[0][0]

    def ingest(self, relative: str, text: str | None = None, **settings: Any) -> FileOutcome:
        """Load the one file inbox/`relative` (written first when `text` is given) as
        `repflow ingest` does, with these `settings`, and give its outcome."""
        if text is not None:
            self.write(relative, text)
        config = self.config(**settings)
        found, _ = discovery.named_files([self.inbox / relative], None, config)
        ((_, outcome),) = pipeline.execute(config, found, "ingest", None).files
        return outcome

    def ingest_real(self, relative: str, athlete: str = "u1", **settings: Any) -> FileOutcome:
        """Copy the real export `relative` (under REAL_DATA) to `athlete`'s folder; load it."""
        target = self.inbox / athlete / Path(relative).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REAL_DATA / relative, target)
        return self.ingest(str(target.relative_to(self.inbox)), **settings)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for name in list(os.environ):
        if name.startswith("REPFLOW_"):
            monkeypatch.delenv(name)
    # Tests write their files just before they load them: they count as settled at once.
    monkeypatch.setenv("REPFLOW_SETTLE_S", "0")
    (tmp_path / "inbox").mkdir()
    return Workspace(tmp_path)


def parse_file(path: Path, athlete: str | None, config: Config) -> ParsedFile | str:
    """Parse the file at `path` as a run does: read it once, then detect, read and validate
    those bytes (a large file from a private copy)."""
    with tempfile.TemporaryDirectory(prefix="repflow-test-read-") as folder:
        read = content.read(path, None, keep=True, copy_to=Path(folder))
        return parsing.parse(read, athlete, config)


def csv_text(*rows: str, header: str = CANONICAL_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def repflow(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run the installed `repflow` command as a user would."""
    command = [str(Path(sys.executable).with_name("repflow")), *args]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("REPFLOW_")}
    full_env["REPFLOW_SETTLE_S"] = "0"  # files written just before count as settled
    full_env.update(env or {})
    return subprocess.run(
        command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness, started once per session, for the tests that run the flow."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One Prefect home for the `repflow run` commands of a test process, whose database is
    then migrated once (a fresh one takes Prefect about 15 s). Pass it as `env`."""
    return {"PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home"))}


@pytest.fixture(scope="session")
def sample_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The analyst snapshot of the bundled sample inbox, with a flag history (tests/sample.py),
    built once per session. Read it only: other tests share it."""
    from tests import sample

    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("REPFLOW_"):
                patch.delenv(name)
        patch.setenv("REPFLOW_SETTLE_S", "0")
        return sample.build(tmp_path_factory.mktemp("sample"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start installing the Debian packages that the selected tests need (tests/debian.py)."""
    wanted = {str(mark.args[0]) for item in session.items for mark in item.iter_markers("debian")}
    debian.start(wanted)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: with two workers, a minute-long test handed out last leaves the other
    worker idle for that minute. The sort is stable, so each module's tests stay in order.

    The tests on Prefect's test harness go to one worker (`--dist loadgroup`), which starts the
    harness once (about 25 s), not once per worker. `tryfirst`: xdist reads the group marker in
    its own hook of this name, which would otherwise run before the marker is added."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("prefect_harness"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """The soak's length and seed (tests/reliability/test_soak.py): `make soak` plays a year."""
    group = parser.getgroup("soak")
    group.addoption("--soak-nights", type=int, default=15, help="nights the soak test plays")
    group.addoption("--soak-athletes", type=int, default=12, help="athletes in the soak's gym")
    group.addoption("--soak-seed", type=int, default=17, help="seed of the soak's gym")
