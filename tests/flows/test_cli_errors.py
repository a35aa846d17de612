"""Bad config and bad arguments end in one line with the documented exit code, never a traceback
(issue 21, faults 6, 8, 12 and 13): 2 for bad usage or config, 1 for a path refused."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from config import DEFAULT_DIR
from flows import discovery
from flows.config import load
from schemas.config_files import ConfigError
from tests.conftest import Workspace, csv_text, repflow

ONE = csv_text("2026-11-03T07:00:00,Squat,5,100,kg,,")


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("repflow: "), stderr
    return lines[0]


def config_folder(root: Path, name: str, data: bytes | None = None) -> Path:
    """A copy of the shipped config folder, with `name` replaced by `data`."""
    folder = root / "config"
    shutil.copytree(DEFAULT_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    if data is not None:
        (folder / name).write_bytes(data)
    return folder


def shipped(name: str) -> bytes:
    return (DEFAULT_DIR / name).read_bytes()


BROKEN_CONFIG = {
    "repflow.toml not TOML": ("repflow.toml", b'timezone = "UTC\n', "not valid TOML"),
    "repflow.toml not UTF-8": ("repflow.toml", b'timezone = "\xff"\n', "not UTF-8"),
    "programs.toml not TOML": ("programs.toml", b"[programs\n", "not valid TOML"),
    "programs.toml not UTF-8": (
        "programs.toml",
        shipped("programs.toml") + b"# \xff\xfe\n",
        "not UTF-8",
    ),
    "exercises.toml not UTF-8": ("exercises.toml", b"\xff\n", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIG))
def test_a_broken_config_file_is_one_line_and_exit_2(workspace: Workspace, case: str) -> None:
    name, data, reason = BROKEN_CONFIG[case]
    folder = config_folder(workspace.root, name, data)
    path = workspace.write("a1/one.csv", ONE)
    result = repflow("ingest", str(path), "--config", str(folder), cwd=workspace.root)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert name in line and reason in line
    assert not workspace.db.exists()  # stopped before anything loads


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("REPFLOW_ATHLETES", "{bad", "not JSON"),
        ("REPFLOW_SCHEDULE", "xx", "not JSON"),
        ("REPFLOW_ATHLETES", '{"../etc": {"unit": "kg"}}', "not a valid athlete_id"),
        ("REPFLOW_LOCK_TIMEOUT_S", "inf", "finite"),
        ("REPFLOW_SETTLE_S", "nan", "finite"),
    ],
)
def test_a_bad_environment_variable_is_one_line_and_exit_2(
    workspace: Workspace, variable: str, value: str, reason: str
) -> None:
    path = workspace.write("a1/one.csv", ONE)
    result = repflow("ingest", str(path), cwd=workspace.root, env={variable: value})
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert variable in line and reason in line


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("load_step_kg", "inf"),
        ("load_step_kg", "nan"),
        ("load_step_kg", "1e300"),
        ("load_step_lb", "inf"),
        ("rep_step", "100000000000000000000"),
        ("deload_factor", "nan"),
        ("rpe_cap", "nan"),
        ("break_days", "10000000000"),
        ("sets", "[3, 1000000000]"),
    ],
)
def test_config_values_are_finite_and_bounded(tmp_path: Path, key: str, value: str) -> None:
    text = shipped("programs.toml").decode()
    start = text.index("[programs.hyperextension]")
    end = text.index("\n[", start + 1) if "\n[" in text[start + 1 :] else len(text)
    block = [line for line in text[start:end].splitlines() if not line.startswith(f"{key} ")]
    block.insert(1, f"{key} = {value}")
    folder = config_folder(
        tmp_path, "programs.toml", (text[:start] + "\n".join(block) + "\n" + text[end:]).encode()
    )
    with pytest.raises(ConfigError, match=f"programs.toml: programs.hyperextension.{key}"):
        load({"config": folder})


def test_an_athlete_that_is_no_athlete_id_is_bad_usage(workspace: Workspace) -> None:
    path = workspace.write("a1/one.csv", ONE)
    for athlete in ("x' OR '1'='1", "../../etc", "a\nb", "..", "x" * 65):
        result = repflow("ingest", str(path), "--athlete", athlete, cwd=workspace.root)
        assert result.returncode == 2, (athlete, result.stdout)
        assert "is not a valid athlete_id" in one_line(result.stderr)
    assert not workspace.db.exists()
    with pytest.raises(discovery.UsageError):
        discovery.named_files([path], "../../etc", workspace.config())


def test_ingest_refuses_a_named_link_out_of_its_folder(workspace: Workspace) -> None:
    secret = workspace.root / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    workspace.write("a1/real.csv", ONE)
    out = workspace.inbox / "a1" / "passwd.csv"
    out.symlink_to(secret)
    inside = workspace.inbox / "a1" / "latest.csv"
    inside.symlink_to("real.csv")  # a link within its own folder is the file it names
    result = repflow("ingest", str(out), str(inside), cwd=workspace.root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "a symbolic link to" in result.stdout and "outside its folder" in result.stdout
    # The target is never opened: its bytes are nowhere in the warehouse.
    stored = workspace.query("SELECT path, status, coalesce(error, '') FROM ingested_files")
    assert stored == [("a1/real.csv", "loaded", "")]
    assert "root:x" not in repflow("status", cwd=workspace.root).stdout


def test_a_named_link_to_a_folder_outside_is_refused(workspace: Workspace) -> None:
    outside = workspace.root / "elsewhere"
    (outside / "a1").mkdir(parents=True)
    (outside / "a1" / "one.csv").write_text(ONE)
    link = workspace.inbox / "linked"
    link.symlink_to(outside)
    found, skipped = discovery.named_files([link], None, workspace.config())
    assert found == [] and len(skipped) == 1 and "outside its folder" in skipped[0]
    assert isinstance(skipped[0], discovery.Refused)
    assert os.path.islink(link)
