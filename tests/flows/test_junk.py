"""Junk in the inbox (OS litter, sync folders, lock files, unfinished downloads) is ignored and
listed, never failed and never loaded (DESIGN.md, "What the inbox holds besides exports")."""

from __future__ import annotations

import io
import zipfile

import pytest

from flows import discovery, pipeline, summary
from schemas.set_row import is_athlete_id
from sources import junk
from tests.conftest import Workspace, csv_text

GOOD = csv_text("2025-01-06T10:00:00,Squat,5,100,kg,,")
OTHER = csv_text("2025-01-07T10:00:00,Bench Press,5,60,kg,,")


@pytest.mark.parametrize(
    ("name", "is_junk"),
    [
        (".DS_Store", True),
        ("._export.csv", True),
        (".stversions", True),
        ("Thumbs.db", True),
        ("desktop.ini", True),
        ("__MACOSX", True),
        ("@eaDir", True),
        ("~$workouts.xlsx", True),
        ("strong.csv.part", True),
        ("strong.csv.crdownload", True),
        ("strong.csv.download", True),
        ("export.TMP", True),
        ("strong.csv", False),
        ("my.export.csv", False),
        ("a7", False),
    ],
)
def test_junk_names(name: str, is_junk: bool) -> None:
    assert junk.ignored(name) is is_junk


def test_junk_anywhere_in_a_path() -> None:
    assert junk.ignored_path("__MACOSX/strong.csv")
    assert junk.ignored_path("exports/.stversions/strong.csv")
    assert not junk.ignored_path("exports/2025/strong.csv")


def test_only_dots_is_not_an_athlete() -> None:
    assert not is_athlete_id("...")
    assert not is_athlete_id("..")
    assert is_athlete_id(".a") and is_athlete_id("a.b") and not is_athlete_id("a" * 65)


def test_junk_is_ignored_listed_and_the_run_succeeds(workspace: Workspace) -> None:
    workspace.write("a1/strong.csv", GOOD)
    # a sync tool's old versions, with real content that must not load as a1's sets
    workspace.write("a1/.stversions/strong~20250101.csv", OTHER)
    workspace.write("a1/~$notes.xlsx", "lock")
    workspace.write("a1/export.csv.part", "performed_at,exer")
    workspace.write("a1/__MACOSX/._strong.csv", "\x00\x05\x16\x07")
    (workspace.inbox / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (workspace.inbox / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (workspace.inbox / "...").mkdir()
    workspace.write(".../strong.csv", OTHER)
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    result = pipeline.execute(config, files, "run", None, skipped=skipped)
    assert result.exit_code == 0 and result.status == "succeeded"
    assert [info.path for info, _ in result.files] == ["a1/strong.csv"]
    assert sorted(result.ignored) == sorted(
        repr(p)
        for p in [
            ".DS_Store",
            "...",
            "Thumbs.db",
            "a1/.stversions",
            "a1/__MACOSX",
            "a1/~$notes.xlsx",
            "a1/export.csv.part",
        ]
    )
    assert workspace.query("SELECT exercise_raw FROM sets") == [("Squat",)]
    text = "\n".join(summary.lines(result))
    assert "ignored 7 (OS or sync junk)" in text and "'a1/.stversions'" in text
    assert "skipped" not in text  # junk is not a problem to report
    assert "a1/.stversions" in summary.markdown(result)


def test_junk_members_of_a_zip_are_ignored(workspace: Workspace) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("export/strong.csv", GOOD)
        bundle.writestr("__MACOSX/export/._strong.csv", "\x00\x05\x16\x07 mac resource fork")
        bundle.writestr("export/.DS_Store", "\x00\x00\x00\x01Bud1")
        bundle.writestr("export/Thumbs.db", "\xd0\xcf")
    (workspace.inbox / "a1").mkdir()
    (workspace.inbox / "a1" / "bundle.zip").write_bytes(buffer.getvalue())
    config = workspace.config()
    result = pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None)
    ((_, outcome),) = result.files
    assert (outcome.status, outcome.loaded, outcome.skipped) == ("loaded", 1, 0)
    members = ["__MACOSX/export/._strong.csv", "export/.DS_Store", "export/Thumbs.db"]
    assert outcome.ignored == tuple(members)
    assert result.ignored == [repr(f"a1/bundle.zip: {name}") for name in members]
    assert "ignored 3 (OS or sync junk): 'a1/bundle.zip: __MACOSX" in "\n".join(
        summary.lines(result)
    )


def test_a_climbing_name_is_not_junk() -> None:
    # `..` is a step out of the folder, refused by the zip guards, never quietly ignored
    assert not junk.ignored("..") and not junk.ignored(".")
    assert not junk.ignored_path("../evil.csv")


def test_a_file_read_as_windows_1252_says_so(workspace: Workspace) -> None:
    text = csv_text("2025-01-06T10:00:00,Kniebeuge über Kopf,5,100,kg,,")
    (workspace.inbox / "a1").mkdir()
    (workspace.inbox / "a1" / "latin.csv").write_bytes(text.encode("cp1252"))
    workspace.write("a1/utf8.csv", OTHER)
    config = workspace.config()
    result = pipeline.execute(config, discovery.inbox_files(config)[0], "ingest", None)
    outcomes = {info.path: outcome for info, outcome in result.files}
    assert outcomes["a1/latin.csv"].decoded_as == "Windows-1252"
    assert outcomes["a1/utf8.csv"].decoded_as is None
    assert workspace.query("SELECT exercise_raw FROM sets WHERE exercise_raw LIKE 'Knie%'") == [
        ("Kniebeuge über Kopf",)
    ]
    text_summary = "\n".join(summary.lines(result))
    assert "read as Windows-1252, not UTF-8: a1/latin.csv" in text_summary
    assert "utf8.csv" not in text_summary
    assert "read as Windows-1252, not UTF-8" in summary.markdown(result)
