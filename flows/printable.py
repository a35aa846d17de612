"""Text that reaches a terminal: file names, exercise names and errors are data, so their control
characters are shown escaped (`\\x1b`, `\\n`), never obeyed. A name with an ESC sequence cannot
recolour, move or clear the screen, and a newline cannot forge a line of the summary."""

from __future__ import annotations

import polars as pl

# C0 and C1 controls and DEL; the line and paragraph separators; and the bidirectional controls
# that can make text read in another order than it is stored ("Trojan Source").
CONTROLS = [
    *range(0x00, 0x20),
    *range(0x7F, 0xA0),
    0x2028,
    0x2029,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
SHORT = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escaped(code: int) -> str:
    if code in SHORT:
        return SHORT[code]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


ESCAPES = {code: _escaped(code) for code in CONTROLS}


def printable(text: str) -> str:
    """`text` with every control character escaped."""
    return text.translate(ESCAPES)


def printable_column(column: pl.Expr) -> pl.Expr:
    """The same escape for a text column, in polars (no Python per row)."""
    return column.str.replace_many(
        [chr(code) for code in ESCAPES], list(ESCAPES.values()), ascii_case_insensitive=False
    )
