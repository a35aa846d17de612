"""Parsing on Dask: the same warehouse as the local runner, parses in a bounded window, Arrow
results, and no worker process left behind."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

import sources.csv_text
from bench.inbox import build
from flows import discovery, loading, parsing, pipeline
from tests.cases import live_processes
from tests.conftest import ROOT, Workspace, csv_text, parse_file
from tests.reliability.test_crash import state
from warehouse.spool import Spool

AS_OF = date(2026, 11, 30)


def item(n: int, kind: loading.Kind = "new") -> loading.Item:
    return loading.Item(discovery.Discovered(Path(f"f{n}"), f"f{n}", "a1"), None, None, kind)


def test_submit_ahead_keeps_a_bounded_window_and_the_batch_order() -> None:
    batches = [[item(2 * n), item(2 * n + 1)] for n in range(10)]
    submitted: list[str] = []

    def submit(batch: list[loading.Item]) -> loading.Pending:
        submitted.append(batch[0].found.relative)
        return lambda: [new.found.relative for new in batch]

    seen: list[str] = []
    for _, pending in loading.submit_ahead(batches, submit, window=3):
        # The one handed out and `window` more are under way, until the batches run out.
        assert len(submitted) - len(seen) == min(3 + 1, len(batches) - len(seen))
        assert pending is not None
        seen.append(str(pending()[0]))
    assert seen == [batch[0].found.relative for batch in batches] == submitted


def test_submit_ahead_submits_only_batches_with_new_files_and_hands_out_every_batch() -> None:
    kinds: list[loading.Kind] = ["seen", "new", "duplicate", "seen", "new", "deferred", "new"]
    batches = [[item(n, kind)] for n, kind in enumerate(kinds)]
    batches[3].append(item(7, "new"))  # a batch with a new file among others
    submitted: list[str] = []

    def submit(batch: list[loading.Item]) -> loading.Pending:
        submitted.append(batch[-1].found.relative)
        return lambda: [batch[-1].found.relative]

    handed = list(loading.submit_ahead(batches, submit, window=1))
    assert [got for got, _ in handed] == batches
    expected = [any(i.kind == "new" for i in batch) for batch in batches]
    assert [pending is not None for _, pending in handed] == expected
    assert submitted == ["f1", "f7", "f4", "f6"]


@pytest.mark.parametrize(
    "path",
    sorted(p for p in (ROOT / "data" / "inbox").rglob("*") if p.is_file()),
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("batch_bytes", [None, 200], ids=["whole", "spooled"])
def test_arrow_results_hold_the_same_frames_as_a_local_parse(
    workspace: Workspace, path: Path, batch_bytes: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if batch_bytes:
        monkeypatch.setattr(sources.csv_text, "BATCH_BYTES", batch_bytes)
    config = workspace.config()
    athlete = path.parent.name if path.parent.name != "inbox" else None
    local = parse_file(path, athlete, config)
    sha256 = parsing.fingerprint(path, path.name, athlete).sha256
    hints = parsing.hints_for(config, athlete)
    context = config.settings.row_context()
    shipped = parsing.parse_to_arrow(str(path), athlete, context, hints, sha256)
    assert not isinstance(local, str) and not isinstance(shipped, str)
    back = shipped.frames()
    assert back.format == local.format and back.skipped == local.skipped
    # A large file's sets and rejects come back spooled, as they were parsed.
    assert isinstance(back.sets, Spool) == isinstance(local.sets, Spool)
    for mine, theirs in zip(back.tables(), local.tables(), strict=True):
        assert mine.equals(theirs) and mine.schema == theirs.schema
    assert (back.machines is None) == (local.machines is None)
    if back.machines is not None and local.machines is not None:
        assert back.machines.equals(local.machines)


@pytest.mark.slow
def test_dask_runner_with_two_workers_builds_the_same_warehouse(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from flows.nightly import run_nightly

    runs = {}
    for runner in ("local", "dask"):
        workspace = Workspace(tmp_path_factory.mktemp(runner))
        # 60 files: every format and athlete, overlapping exports with edits, an unreadable
        # file (every 50th), a copy.
        files = build(workspace.inbox, 60)
        settings = {"inbox": str(workspace.inbox), "db": str(workspace.db), "runner": runner}
        if runner == "local":  # the reference: the run's steps in turn, without Prefect's
            config = workspace.config()
            found, skipped = discovery.inbox_files(config)
            summary = pipeline.execute(config, found, "run", AS_OF, skipped=skipped)
        else:
            summary = run_nightly({**settings, "dask_workers": 2}, as_of=AS_OF)
        assert len(summary.files) == files
        runs[runner] = (summary, state(workspace.db))
    (local, expected), (on_dask, got) = runs["local"], runs["dask"]
    assert got == expected
    assert [(i.path, o) for i, o in on_dask.files] == [(i.path, o) for i, o in local.files]
    # The inbox has what makes order matter: edits, rejects, a copy, an unreadable file.
    assert on_dask.total("revised") and on_dask.total("rejected")
    assert on_dask.count("duplicate") == 1 and on_dask.count("failed") == 1
    assert {info.path.split("/")[0] for info, _ in on_dask.files} == {
        f"m{n:02d}" for n in range(12)
    }
    assert {o.format for _, o in on_dask.files} >= {
        "canonical_csv",
        "strong_csv",
        "hevy_csv",
        "machine_json",
    }
    # The cluster's worker processes end with the run (multiprocessing's resource tracker
    # belongs to this process, not to the cluster).
    assert not [
        p for p in live_processes() if p.parent == os.getpid() and "spawn_main" in p.command
    ]


@pytest.mark.slow
def test_dask_address_runs_on_an_existing_cluster(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from distributed import LocalCluster

    from flows.nightly import run_nightly

    reference = Workspace(tmp_path_factory.mktemp("reference"))
    shutil.copytree(ROOT / "data" / "inbox", reference.inbox)
    config = reference.config()
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", AS_OF, skipped=skipped)
    workspace = Workspace(tmp_path_factory.mktemp("existing-cluster"))
    shutil.copytree(ROOT / "data" / "inbox", workspace.inbox)
    # Threads in this process, but reached like any cluster: by its scheduler's TCP address.
    with LocalCluster(
        n_workers=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        settings = {"inbox": str(workspace.inbox), "db": str(workspace.db)}
        summary = run_nightly(
            {**settings, "runner": "dask", "dask_address": cluster.scheduler_address}, AS_OF
        )
    assert summary.count("loaded") == len(files) and summary.exit_code == 0
    assert state(workspace.db) == state(reference.db)


@pytest.mark.slow
def test_a_flow_without_a_dask_runner_parses_in_turn_whatever_the_settings(
    prefect_harness: None, workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A served or work-pool run calls `nightly` itself, with Prefect's default runner: it must
    not parse files concurrently in threads because the settings say dask."""
    from flows import nightly

    workspace.write("a1/one.csv", csv_text("2026-11-16T07:00:00,Squat,5,60,kg,,"))
    monkeypatch.setattr(nightly, "_parse_on_cluster", _never)
    summary = nightly.nightly(
        settings={"inbox": str(workspace.inbox), "db": str(workspace.db), "runner": "dask"},
        as_of=date(2026, 11, 30),
    )
    assert summary.total("loaded") == 1


def _never(config: object) -> None:
    raise AssertionError("parses were submitted ahead without a Dask runner")
