"""Names and errors are data (issue 21, fault 9): a file or exercise name with an ESC sequence or
a newline reaches the terminal escaped, in the summary, `status` and `sql`, and rich reads no
markup or emoji codes in them (`:x:` stays `:x:`)."""

from __future__ import annotations

from flows.printable import printable, printable_column
from tests.conftest import Workspace, csv_text, repflow

CLEAR = "\x1b[2J\x1b[31m"  # clear the screen, then red
NAME = f"a1/{CLEAR}red.csv"
EXERCISE = "Squat\x1b[5m\nDROP\u202e"  # blink, a forged line, a right-to-left override


def raw_controls(text: str) -> list[str]:
    """Control characters in `text` other than the line breaks between lines."""
    return [c for c in text if printable(c) != c and c != "\n"]


def test_names_and_errors_reach_the_terminal_escaped(workspace: Workspace) -> None:
    workspace.write(NAME, csv_text(f'2026-11-03T07:00:00,"{EXERCISE}",5,100,kg,,'))
    workspace.write("a1/note.txt", ":x: [bold]not an export[/bold]\n")
    result = repflow("ingest", str(workspace.inbox), cwd=workspace.root)
    assert result.returncode == 1  # the note fails
    for stream in (result.stdout, result.stderr):
        assert raw_controls(stream) == []
        assert "❌" not in stream
    assert "\\x1b[2J\\x1b[31mred.csv" in result.stderr  # the file's progress line
    assert "it starts with ':x: [bold]not an'" in result.stdout  # markup and emoji codes stay

    status = repflow("status", cwd=workspace.root, env={"COLUMNS": "300"})
    assert status.returncode == 0 and raw_controls(status.stdout) == []
    assert ":x: [bold]" in status.stdout and "❌" not in status.stdout

    query = repflow(
        "sql",
        "SELECT exercise_raw, path FROM sets JOIN ingested_files USING (file_id)",
        cwd=workspace.root,
    )
    assert query.returncode == 0 and raw_controls(query.stdout) == []
    assert "Squat\\x1b[5m\\nDROP\\u202e" in query.stdout
    assert "\\x1b[2J\\x1b[31mred.csv" in query.stdout


def test_a_forged_line_in_an_error_stays_on_its_line(workspace: Workspace) -> None:
    workspace.write("a1/x.csv", csv_text("2026-11-03T07:00:00,Squat,5,100,kg,,"))
    forged = workspace.root / "run 1: succeeded\nflags.csv"
    result = repflow("ingest", str(workspace.inbox / "a1"), str(forged), cwd=workspace.root)
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("repflow: no such file or folder") and "\\nflags.csv" in line


def test_the_escape_is_the_same_in_python_and_in_polars() -> None:
    import polars as pl

    text = "".join(chr(c) for c in range(0x2100)) + EXERCISE
    column = pl.DataFrame({"t": [text]}).select(printable_column(pl.col("t")))["t"][0]
    assert column == printable(text)
    assert printable("plain ünïcode, 中文 and emoji 🏋") == "plain ünïcode, 中文 and emoji 🏋"
