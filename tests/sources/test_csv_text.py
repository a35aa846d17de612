"""The tolerant CSV splitter: line numbers, quoting, and damage confined to its own row."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from sources.content import Held
from sources.csv_text import UnreadableFile, decode, read_table, read_tables, stream_table


def rows(data: bytes, separator: str = ",") -> list[dict]:
    return read_table(data, separator).rows.to_dicts()


def test_quoted_newlines_keep_the_starting_line_number() -> None:
    got = rows(b'a,b\n1,"two\nlines"\n3,4\n')
    assert [(r["source_line"], r["b"]) for r in got] == [(2, "two\nlines"), (4, "4")]


def test_blank_lines_are_skipped_but_counted() -> None:
    got = rows(b"a,b\n\n1,2\r\n\r\n3,4")
    assert [r["source_line"] for r in got] == [3, 5]


def test_wrong_field_count_is_a_structure_error_for_that_row_only() -> None:
    got = rows(b"a,b,c\n1,2\n4,5,6\n7,8,9,10\n")
    assert [r["structure_error"] is None for r in got] == [False, True, False]
    assert "expected 3 fields" in got[0]["structure_error"]


def test_a_quote_left_open_breaks_only_its_own_line() -> None:
    got = rows(b'a,b\n1,"open\n2,3\n4,5\n')
    assert got[0]["source_line"] == 2 and got[0]["structure_error"] is not None
    assert [(r["source_line"], r["a"], r["b"]) for r in got[1:]] == [(3, "2", "3"), (4, "4", "5")]
    assert all(r["structure_error"] is None for r in got[1:])


def test_doubled_quotes_and_separators_inside_quotes() -> None:
    got = rows(b'a;b\n"x;y";"say ""hi"""\n', separator=";")
    assert (got[0]["a"], got[0]["b"]) == ("x;y", 'say "hi"')


def test_bom_utf16_and_latin1_are_decoded() -> None:
    assert decode("\ufeffa,b".encode()) == "a,b"
    assert decode("a,é".encode("utf-16")) == "a,é"
    assert decode("Übung".encode("cp1252")) == "Übung"


def test_empty_file_is_unreadable() -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        read_table(b"\n\n", ",")


def test_duplicate_header_names_stay_apart() -> None:
    table = read_table(b"x,x\n1,2\n", ",")
    assert table.header == ["x", "x__2"]
    assert table.rows.select("x", "x__2").row(0) == ("1", "2")


def test_raw_text_is_kept_for_rejects() -> None:
    table = read_table(b"a,b\n1,2\n", ",")
    assert table.rows["raw"].to_list() == ["1,2"]
    assert table.rows.schema["source_line"] in (pl.UInt32, pl.Int64, pl.UInt64)


# Cells with what makes CSV hard: quotes, separators and line breaks inside them, blanks.
CELLS = st.sampled_from(
    ["", "1", " 2 ", "x y", '"q"', '"a,b"', '"say ""hi"""', '"two\nlines"', '"']
)
HEADERS = st.sampled_from(["a,b,c", "a,b", "a,a,b", '"a","b"', "x"])


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """A small CSV file's text: a header, perhaps after blank lines; ragged rows, blank lines,
    any line ending, and perhaps no last line break."""
    rows = [draw(HEADERS)]
    for _ in range(draw(st.integers(0, 6))):
        rows.append(",".join(draw(st.lists(CELLS, min_size=1, max_size=4))))
        if draw(st.integers(0, 5)) == 0:
            rows.append(draw(st.sampled_from(["", "  "])))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = ending.join(rows) + draw(st.sampled_from(["", ending]))
    return draw(st.sampled_from(["", " \n", "\n\n"])) + text if draw(st.booleans()) else text


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(csv_texts(), min_size=1, max_size=6))
def test_many_small_texts_read_at_once_are_each_what_reading_it_alone_gives(
    texts: list[str],
) -> None:
    """csv_text.read_tables: each text's header, rows (line numbers, structure errors) and
    repeated names as stream_table gives them; a text it leaves (None) has a record over lines."""
    for text, table in zip(texts, read_tables(texts, ","), strict=True):
        alone = stream_table(Held(text.encode()), ",")
        rows = pl.concat(list(alone.batches))
        if table is None:
            assert any(line.count('"') % 2 for line in text.replace("\r", "\n").split("\n"))
            continue
        assert (table.header, table.repeated) == (alone.header, alone.repeated)
        assert_frame_equal(table.rows, rows)


def test_a_text_without_records_is_left_to_be_read_alone() -> None:
    assert read_tables(["", " \n\n", "a,b\n1,2"], ",")[:2] == [None, None]
