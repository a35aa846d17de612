"""A large CSV read in batches gives the rows it gives read at once: same records, same fields,
same line numbers, whatever the batch size and wherever a batch boundary falls."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sources.csv_text import read_table, stream_table

# Cells as an exporter writes them: plain, or quoted with quotes doubled and line breaks inside.
plain = st.text(alphabet="ab 1.", max_size=5)
quoted = st.text(alphabet='ab ,"\n', max_size=6).map(lambda t: '"' + t.replace('"', '""') + '"')
cells = st.lists(st.one_of(plain, quoted), min_size=1, max_size=4)


def batched(path: Path, batch_bytes: int) -> pl.DataFrame:
    return pl.concat(list(stream_table(path, ",", batch_bytes).batches))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(cells, min_size=1, max_size=30),
    ending=st.sampled_from(["\n", "\r\n"]),
    blank_lines=st.booleans(),
    batch_bytes=st.integers(1, 64),
)
def test_batches_read_as_the_whole_file(
    tmp_path: Path, records: list[list[str]], ending: str, blank_lines: bool, batch_bytes: int
) -> None:
    lines = ["a,b,c", *(",".join(cells) for cells in records)]
    if blank_lines:
        lines.insert(len(lines) // 2, "")
    data = ending.join(lines).encode() + ending.encode()
    path = tmp_path / "file.csv"
    path.write_bytes(data)
    whole = read_table(data, ",")
    stream = stream_table(path, ",", batch_bytes)
    assert stream.header == whole.header
    assert batched(path, batch_bytes).equals(whole.rows)


def test_a_quote_left_open_damages_its_own_batch_only(tmp_path: Path) -> None:
    good = [f"{i},x" for i in range(200)]
    path = tmp_path / "file.csv"
    path.write_text("\n".join(["a,b", *good[:50], '"open,y', *good[50:]]) + "\n")
    rows = batched(path, 300)
    broken = rows.filter(pl.col("structure_error").is_not_null())
    assert broken.height >= 1
    # Every later batch reads normally: the rows well after the open quote (line 52) all parse.
    later = rows.filter(pl.col("source_line") > 120)  # good row i is on line i + 3 after it
    assert later["a"].to_list() == [str(i) for i in range(118, 200)]
    assert later["structure_error"].null_count() == later.height


def test_a_utf16_file_is_one_batch(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes("a,b\n1,2\n3,4\n".encode("utf-16"))
    batches = list(stream_table(path, ",", 4).batches)
    assert len(batches) == 1 and batches[0]["b"].to_list() == ["2", "4"]


def test_a_quoted_field_of_many_lines_stays_one_record(tmp_path: Path) -> None:
    note = "\n".join(f"l{i}" for i in range(80))
    path = tmp_path / "file.csv"
    path.write_text(f'a,b\n1,x\n"{note}",y\n2,z\n')
    rows = batched(path, 150)  # the note spans three batches
    assert rows["a"].to_list() == ["1", note, "2"]
    assert rows["structure_error"].null_count() == 3


def test_blank_lines_longer_than_a_batch_before_the_header(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text("\n" * 50 + "a,b\n1,2\n")
    stream = stream_table(path, ",", 10)
    assert stream.header == ["a", "b"]
    rows = pl.concat(list(stream.batches))
    assert rows.select("source_line", "b").rows() == [(52, "2")]
