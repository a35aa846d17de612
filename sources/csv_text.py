"""Tolerant CSV splitting in polars: records, fields and source line numbers, no per-row Python.

Unlike a strict CSV parser, a damaged record (too few fields, a quote left open) does not stop
the file: it becomes one record with a structure error, and the records after it still parse.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

import polars as pl

from sources.content import MAX_LINE_BYTES, Source

STRUCTURE_ERROR = "structure_error"
# A quote left open runs to the end of the file; after this many recoveries the rest is one
# broken record, so a pathological file cannot make the split quadratic.
MAX_OPEN_QUOTE_RECOVERIES = 100
# Large files are read this many bytes at a time (sources/canonical_csv.py).
BATCH_BYTES = 8 << 20
# A record (a long quoted note) may span this many batches (and 1 MB in any case) before its
# quote counts as left open.
MAX_RECORD_BATCHES = 4
# No export has more; a header of a million cells is an attack on memory, not a log.
MAX_COLUMNS = 1000


BROKEN_QUOTES = "quoting is broken (a quote inside a field, or a quote left open)"


class UnreadableFile(ValueError):
    """The file as a whole cannot be read; the message says why, for a person."""


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 as a last resort."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile("the file starts with a UTF-16 mark but is not UTF-16") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def decoded_as(path: Source) -> str | None:
    """The encoding `decode` falls back to for this file, when it is not all UTF-8: the
    Windows-1252 fallback guesses, and the person who loads the file should know."""
    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            return "UTF-16"
        handle.seek(0)
        utf8 = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(1 << 20):
                utf8.decode(chunk)
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            return "Windows-1252"
    return None


def first_line(head: bytes) -> str:
    return decode(head).replace("\r", "\n").split("\n", 1)[0]


def header_names(line: str, separator: str) -> list[str]:
    """Header cells, unquoted, stripped and lower-cased: what format detection compares."""
    return [cell.strip().strip('"').strip().lower() for cell in line.split(separator)]


def _lines(text: str, first_line: int = 1) -> pl.DataFrame:
    lines = pl.Series("text", [_newlines(text)]).str.split("\n").explode(empty_as_null=False)
    return pl.DataFrame(lines).with_row_index("line", offset=first_line)


def _group_records(lines: pl.DataFrame) -> tuple[pl.DataFrame, bool]:
    """Join physical lines into records by quote parity; also say if the last quote is open."""
    quotes = pl.col("text").str.count_matches('"', literal=True)
    grouped = lines.with_columns(
        starts=((quotes.cum_sum() - quotes) % 2 == 0),
        odd=(quotes.cum_sum() % 2 == 1),
    ).with_columns(record=pl.col("starts").cum_sum())
    open_at_end = bool(grouped["odd"][-1]) if grouped.height else False
    if grouped["starts"].all():  # no field spans lines: every line is a record
        return lines, open_at_end
    records = grouped.group_by("record", maintain_order=True).agg(
        pl.col("line").first(), pl.col("text").str.join("\n")
    )
    return records.drop("record"), open_at_end


def split_records(text: str, first_line: int = 1) -> pl.DataFrame:
    """Records of `text` as (line, text): line is the 1-based line the record starts on (the
    text's first line is `first_line`)."""
    return _split_lines(_lines(text, first_line))


def _split_lines(lines: pl.DataFrame) -> pl.DataFrame:
    done: list[pl.DataFrame] = []
    for _ in range(MAX_OPEN_QUOTE_RECOVERIES):
        records, open_at_end = _group_records(lines)
        if not open_at_end:
            break
        # The last record swallowed everything after an unclosed quote: keep its first line as
        # a broken record of its own and split the lines after it again.
        start = records["line"][-1]
        done.append(records.head(-1))
        done.append(lines.filter(pl.col("line") == start))
        lines = lines.filter(pl.col("line") > start)
    done.append(records)
    blank = pl.col("text").str.strip_chars().str.len_chars() == 0
    return pl.concat(done).filter(~blank)


def _escaped(separator: str) -> str:
    return "\\" + separator if separator in "|.^$*+?()[]{}\\-" else separator


def _field_pattern(separator: str) -> str:
    sep = _escaped(separator)
    return f'(?:"(?:[^"]|"")*"|[^{sep}"\\n]*)(?:{sep}|$)'


def split_fields(records: pl.DataFrame, separator: str) -> pl.DataFrame:
    """Add `fields`, a list of unquoted cells, and `malformed` where quoting is broken.

    A record whose quotes only wrap whole fields, with no separator, quote or line break inside
    (most rows of most exports, `""` for an empty cell included), splits plainly once its quotes
    are dropped: one anchored regular expression tells which. The rest go through the
    quote-aware regular expression.
    """
    sep = _escaped(separator)
    field = f'(?:"[^"{sep}\\n]*"|[^"{sep}\\n]*)'
    simple = records["text"].str.contains(f"^{field}(?:{sep}{field})*$")
    plain = records.filter(simple).with_columns(
        fields=pl.col("text").str.replace_all('"', "", literal=True).str.split(separator),
        malformed=pl.lit(False),
    )
    if plain.height == records.height:  # most files: no quoted field to split (about 1 ms)
        return plain
    complex_ = _split_quoted(records.filter(~simple), separator).select(plain.columns)
    if complex_.height == 0:
        return plain
    if plain.height == 0:
        return complex_
    # Back in the records' order (by position: the records of several files share lines).
    at = pl.int_range(records.height, dtype=pl.UInt32, eager=True)
    order = pl.concat([at.filter(simple), at.filter(~simple)]).arg_sort()
    return pl.concat([plain, complex_])[order]


def _split_quoted(records: pl.DataFrame, separator: str) -> pl.DataFrame:
    matches = pl.col("text").str.extract_all(_field_pattern(separator))
    cells = pl.col("cells")
    # A trailing separator ends in an empty last field that the regex does not report.
    trailing = (
        pl.when(cells.list.last().str.ends_with(separator))
        .then(pl.lit([""]))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
    )
    unquote = (
        pl.when(pl.element().str.starts_with('"'))
        .then(pl.element().str.slice(1).str.strip_suffix('"').str.replace_all('""', '"'))
        .otherwise(pl.element())
    )
    return (
        records.with_columns(cells=matches)
        .with_columns(malformed=cells.list.join("") != pl.col("text"))
        .with_columns(
            fields=pl.concat_list(
                cells.list.eval(pl.element().str.strip_suffix(separator)), trailing
            ).list.eval(unquote)
        )
        .drop("cells")
    )


@dataclass(frozen=True)
class CsvTable:
    """A CSV file's header and its data records, one string column per header cell."""

    header: list[str]  # the header cells, a repeated name suffixed `__2`, `__3`
    rows: pl.DataFrame  # source_line, raw, structure_error, then one column per header cell
    repeated: list[str]  # header names that occur more than once


def _split_broken(table: pl.DataFrame, width: int, separator: str) -> pl.DataFrame:
    """A record that spans lines and does not parse is most likely a stray quote that swallowed
    the rows after it: split it back into its lines, so those rows parse on their own."""
    broken = (pl.col("malformed") | (pl.col("fields").list.len() != width)) & pl.col(
        "text"
    ).str.contains("\n")
    suspect = table.filter(broken)
    if suspect.height == 0:
        return table
    lines = (
        suspect.select("line", pl.col("text").str.split("\n"))
        .explode("text", empty_as_null=False)
        .with_columns(
            line=(pl.col("line") + pl.int_range(pl.len()).over("line")).cast(table["line"].dtype)
        )
    )
    resplit = split_fields(lines.filter(pl.col("text").str.strip_chars() != ""), separator)
    return pl.concat([table.filter(~broken), resplit]).sort("line")


def read_table(data: bytes, separator: str, ragged: bool = False) -> CsvTable:
    """The whole of `data` as one table. `ragged`: a record may stop short of the header (a
    wide export leaves out its empty last cells), its missing cells then empty."""
    stream = stream_records(iter([decode(data)]), separator, ragged)
    rows = pl.concat(list(stream.batches))
    return CsvTable(header=stream.header, rows=rows, repeated=stream.repeated)


@dataclass(frozen=True)
class CsvStream:
    """A CSV file's header, and its data records a batch at a time (each batch as
    `CsvTable.rows`), so a file of any size is read in bounded memory."""

    header: list[str]
    batches: Iterator[pl.DataFrame]
    repeated: list[str]


def stream_table(path: Source, separator: str, batch_bytes: int | None = None) -> CsvStream:
    """`path` read `batch_bytes` (BATCH_BYTES) at a time, each batch cut where a record ends. A
    line over MAX_LINE_BYTES is never held: it reads as a broken record of its first bytes."""
    chunks = _chunks(path, batch_bytes or BATCH_BYTES)
    texts = (chunk if isinstance(chunk, Overlong) else decode(chunk) for chunk in chunks)
    return stream_records(texts, separator)


@dataclass(frozen=True)
class Overlong:
    """A line longer than MAX_LINE_BYTES, in place of its text: its first bytes and its size."""

    head: bytes
    size: int

    @property
    def error(self) -> str:
        return (
            f"the line is {self.size:,} bytes long, over the limit of {MAX_LINE_BYTES:,} bytes "
            f"a line: not read (its first {len(self.head):,} bytes are kept)"
        )


# Of a line over the limit, this much is kept as its reject's raw text.
OVERLONG_KEPT = 4096


def stream_records(
    texts: Iterator[str | Overlong], separator: str, ragged: bool = False
) -> CsvStream:
    """Tables of consecutive pieces of one CSV text, each piece ending where a record ends and
    the first holding the header."""
    pieces = _record_pieces(texts)
    # The header is on the first piece that is not all blank lines.
    records = next((piece for piece in pieces if piece.height), None)
    if records is None:
        raise UnreadableFile("the file is empty")
    if "error" in records.columns:  # the header is a line over the limit
        raise UnreadableFile(f"the header line: {records['error'][0]}")
    header = _header(split_fields(records.head(1), separator))
    if len(header) > MAX_COLUMNS:
        raise UnreadableFile(f"the header has {len(header)} columns (at most {MAX_COLUMNS})")
    names = _unique(header)
    repeated = _repeated(header)

    def batches() -> Iterator[pl.DataFrame]:
        yield _rows(records.slice(1), names, separator, ragged)
        for piece in pieces:
            yield _rows(piece, names, separator, ragged)

    return CsvStream(header=names, batches=batches(), repeated=repeated)


# The file of each record, when the records of several small files are split together, and
# the text of that file's header.
FILE = "__file"
HEADER = "__header"


def read_tables(texts: Sequence[str], separator: str) -> list[CsvTable | None]:
    """Several small files' texts split at once, each as `stream_records` reads it: the same
    header, rows and line numbers, at one call's fixed cost rather than one per file.

    A text whose records may span lines (an odd number of quotes on a line), or that holds no
    record, is None: `stream_table` reads it alone."""
    lines = (
        pl.DataFrame(
            {FILE: list(range(len(texts))), "text": [_newlines(text) for text in texts]},
            schema={FILE: pl.UInt32, "text": pl.String},
        )
        .with_columns(pl.col("text").str.split("\n"))
        .explode("text", empty_as_null=False)
        .with_columns(line=(pl.int_range(pl.len(), dtype=pl.UInt32).over(FILE) + 1))
    )
    odd = pl.col("text").str.count_matches('"', literal=True) % 2 == 1
    spanning = set(lines.filter(odd)[FILE].unique().to_list())
    blank = pl.col("text").str.strip_chars().str.len_chars() == 0
    records = lines.filter(~blank & ~pl.col(FILE).is_in(list(spanning)))
    first = pl.int_range(pl.len()).over(FILE) == 0
    headers = records.filter(first)
    tables: list[CsvTable | None] = [None] * len(texts)
    # Each file's data records, by its header's text: one pass, however many headers.
    header_of = headers.select(FILE, pl.col("text").alias(HEADER))
    data = records.filter(~first).join(header_of, on=FILE, maintain_order="left")
    by_header = data.partition_by(HEADER, as_dict=True, include_key=False, maintain_order=True)
    for (text,), group in headers.group_by("text", maintain_order=True):
        files = group[FILE]
        header = _header(split_fields(group.head(1), separator))
        if len(header) > MAX_COLUMNS:
            continue  # read alone, which says why
        names, repeated = _unique(header), _repeated(header)
        rows = _rows(by_header.get((text,), data.clear().drop(HEADER)), names, separator)
        own = rows.partition_by(FILE, as_dict=True, include_key=False, maintain_order=True)
        empty = rows.clear().drop(FILE)
        for file in files.to_list():
            part = own.get((file,), empty)
            tables[file] = CsvTable(header=names, rows=part, repeated=repeated)
    return tables


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _header(table: pl.DataFrame) -> list[str]:
    return [cell.strip() for cell in table["fields"][0].to_list()]


def _repeated(header: list[str]) -> list[str]:
    return sorted({cell.lower() for cell in header if header.count(cell) > 1})


def _record_pieces(texts: Iterator[str | Overlong]) -> Iterator[pl.DataFrame]:
    """The records of each piece, numbered by their line in the whole text. A line over the
    limit is a record of its own: its first bytes, and why it was not read."""
    next_line = 1
    for text in texts:
        if isinstance(text, Overlong):
            yield pl.DataFrame(
                {"line": [next_line], "text": [decode(text.head)], "error": [text.error]},
                schema={"line": pl.UInt32, "text": pl.String, "error": pl.String},
            )
            next_line += 1
            continue
        lines = _lines(text, next_line)
        next_line += lines.height
        yield _split_lines(lines)


def _rows(
    records: pl.DataFrame, names: list[str], separator: str, ragged: bool = False
) -> pl.DataFrame:
    """Data records as source_line, raw, structure_error and one text column per header cell."""
    if "error" in records.columns:  # a line over the limit, not read (_record_pieces)
        return records.select(
            pl.col("line").alias("source_line"),
            pl.col("text").alias("raw"),
            pl.col("error").alias("structure_error"),
            *[pl.lit(None, pl.String).alias(name) for name in names],
        )
    width = len(names)
    count = pl.col("fields").list.len()
    expected = "at most {} fields" if ragged else "{} fields"
    return (
        _split_broken(split_fields(records, separator), width, separator)
        .with_columns(
            structure_error=pl.when(pl.col("malformed"))
            .then(pl.lit(BROKEN_QUOTES))
            .when((count > width) if ragged else (count != width))
            .then(pl.format(f"expected {expected} as in the header, found {{}}", width, count))
        )
        .select(
            pl.col("line").alias("source_line"),
            pl.col("text").alias("raw"),
            "structure_error",
            *[pl.col("fields").list.get(i, null_on_oob=True).alias(n) for i, n in enumerate(names)],
            *([FILE] if FILE in records.columns else []),
        )
    )


def _chunks(path: Source, batch_bytes: int) -> Iterator[bytes | Overlong]:
    """The file's bytes in pieces of about `batch_bytes`, each cut at a line break outside
    quotes (the break itself dropped), so no record is split between two pieces. A line over
    MAX_LINE_BYTES comes as an Overlong, its bytes past the first OVERLONG_KEPT never held."""
    with path.open("rb") as handle:
        if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: cut only once decoded
            handle.seek(0)
            yield handle.read()
            return
        handle.seek(0)
        pending: list[bytes] = []
        open_line = 0  # bytes of the last line in `pending`, not ended yet
        while block := handle.read(batch_bytes):
            pending.append(block)
            last = block.rfind(b"\n")
            open_line = open_line + len(block) if last < 0 else len(block) - last - 1
            if len(block) < batch_bytes and open_line <= MAX_LINE_BYTES:
                break  # the end of the file: what is left is one piece, as a small file is
            if open_line > MAX_LINE_BYTES:
                yield from _overlong(b"".join(pending), open_line, handle, batch_bytes)
                pending, open_line = [], 0
                rest = handle.read(batch_bytes)  # after the line's end (read by _overlong)
                if rest:
                    pending = [rest]
                    last = rest.rfind(b"\n")
                    open_line = len(rest) if last < 0 else len(rest) - last - 1
                continue
            if last < 0:  # a line longer than a batch: read on, without rescanning
                continue
            data = b"".join(pending)
            cut = _record_end(data)
            if cut < 0 and len(data) < max(MAX_RECORD_BATCHES * batch_bytes, 1 << 20):
                pending = [data]  # every line break so far is inside quotes: read on
                continue
            if cut < 0:
                # A quote left open, not a long field: cut at the last break. The open record
                # reads as broken and the pieces after it read normally, rather than the rest
                # of the file being held to close it.
                cut = data.rfind(b"\n")
            yield data[: cut - 1] if data[cut - 1 : cut] == b"\r" else data[:cut]
            pending = [data[cut + 1 :]]
        if rest := b"".join(pending):
            yield rest


def _overlong(
    data: bytes, open_line: int, handle: IO[bytes], batch_bytes: int
) -> Iterator[bytes | Overlong]:
    """The records before the over-long line that ends `data`, then the line itself as an
    Overlong, read on to its end without keeping it. The handle is left just past its line
    break."""
    start = len(data) - open_line
    if start:
        before = data[: start - 1]
        yield before[:-1] if before.endswith(b"\r") else before
    size = open_line
    while True:
        block = handle.read(batch_bytes)
        end = block.find(b"\n")
        if end >= 0:
            size += end
            handle.seek(end + 1 - len(block), os.SEEK_CUR)
            break
        size += len(block)
        if not block:
            break
    yield Overlong(data[start : start + OVERLONG_KEPT], size)


def _record_end(data: bytes) -> int:
    """The last line break of `data` with an even number of quotes before it, where a record
    ends (a quoted field may span many lines); -1 when there is none."""
    cut = data.rfind(b"\n")
    quotes = data.count(b'"', 0, cut)
    while cut >= 0 and quotes % 2:
        earlier = data.rfind(b"\n", 0, cut)
        quotes -= data.count(b'"', earlier + 1, cut)
        cut = earlier
    return cut


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return unique
