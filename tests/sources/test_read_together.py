"""Small canonical CSV files read many at once (sources.read_together) give what each read alone
gives; every file it cannot read that way is left to be read alone, with its hints."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

import sources
from sources.content import Held
from tests.conftest import CANONICAL_HEADER, csv_text

ROW = "2026-03-02T07:00:00Z,Squat,5,100,kg,,working"
TOGETHER = {
    "plain": csv_text(ROW, ROW.replace("Squat", "Bench Press")).encode(),
    "bom, crlf, no last break": ("\ufeff" + CANONICAL_HEADER + "\r\n" + ROW).encode(),
    "quoted, a bad row": csv_text(f'"{ROW[:20]}","Squat, paused",5,,,,', "x,y").encode(),
    "other columns": csv_text(
        "2026-03-02T07:00:00Z,Squat,5,a9", header="performed_at,exercise,reps,athlete_id"
    ).encode(),
    "only a header": (CANONICAL_HEADER + "\n").encode(),
    "reps twice": csv_text("x,Squat,5,5", header="performed_at,exercise,reps,reps").encode(),
}
ALONE = {
    "windows-1252": csv_text("2026-03-02T07:00:00Z,Press à la,5,40,kg,,").encode("cp1252"),
    "utf-16": csv_text(ROW).encode("utf-16"),
    "a note over two lines": csv_text(ROW.replace(",,working", ',"two\nlines",working')).encode(),
    "strong": b"Date,Workout Name,Exercise Name,Set Order,Weight,Reps\n",
    "empty": b"",
    "unknown": b"\x00\x01",
    "no reps column": csv_text("x,Squat", header="performed_at,exercise").encode(),
}


def test_small_canonical_files_read_together_are_each_what_reading_it_alone_gives() -> None:
    files = [*TOGETHER.values(), *ALONE.values()]
    together = sources.read_together([(Held(data), None) for data in files])
    for name, data, got in zip([*TOGETHER, *ALONE], files, together, strict=True):
        if name in ALONE:
            assert got is None, name
            continue
        try:
            alone = sources.read(Held(data))
        except sources.UnreadableFile as exc:
            assert isinstance(got, sources.UnreadableFile) and str(got) == str(exc), name
            continue
        assert isinstance(got, sources.Parsed), name
        assert (got.format, got.names_athletes) == (alone.format, alone.names_athletes), name
        assert_frame_equal(got.rows, alone.whole(), check_row_order=True)


@pytest.mark.parametrize("long_line", [None, "line 2 is 17 MB"])
def test_a_file_with_a_line_over_the_limit_is_read_alone(long_line: str | None) -> None:
    (got,) = sources.read_together([(Held(TOGETHER["plain"]), long_line)])  # type: ignore[list-item]
    assert (got is None) == (long_line is not None)
