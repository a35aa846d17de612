"""The bundled demo inbox: every format, some rejected rows, no file that fails."""

from __future__ import annotations

import shutil
from datetime import date

from flows import discovery, pipeline
from sources import READERS
from tests.conftest import ROOT, Workspace


def test_demo_inbox_loads_every_format_and_shows_rejects(workspace: Workspace) -> None:
    shutil.rmtree(workspace.inbox)
    shutil.copytree(ROOT / "data" / "inbox", workspace.inbox)
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    summary = pipeline.execute(config, files, "run", date(2026, 11, 26), skipped=skipped)
    assert summary.exit_code == 0 and not skipped
    assert summary.count("failed") == 0
    assert summary.total("rejected") > 0
    loaded = {r[0] for r in workspace.query("SELECT DISTINCT source_format FROM sets")}
    every = {reader.FORMAT for reader in READERS} - {"zip_bundle"}
    assert loaded == every
    assert workspace.scalar("SELECT count(*) FROM ingested_files WHERE format = 'garmin_fit'") == 1
    actions = {r[0] for r in workspace.query("SELECT DISTINCT action FROM v_current_flags")}
    # every exercise but the back extensions follows its lifter's own scheme, which never
    # raises sets by a ladder; the demo's lifters step back and set records too
    wanted = {"raise_reps", "raise_load", "hold", "deload", "resume", "do_first", "record"}
    assert wanted <= actions
