"""Hostile and broken input: every case ends in a loaded file, a failed file with a reason,
or rejected rows; never a crash, a hang, a traceback or a lost valid row of the same file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import discovery, parsing, pipeline, runs
from flows.config import load
from tests.cases import zipped
from tests.conftest import CANONICAL_HEADER, Workspace, csv_text
from tests.sources.fit_fixtures import FitSet, write_fit

VALID = "2026-11-{day:02d}T07:{minute:02d}:00,Hostile Lift,5,60,kg,,working"
CONFIG = load({})


def run(workspace: Workspace) -> runs.RunSummary:
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    return pipeline.execute(config, files, "run", date(2026, 11, 30), skipped=skipped)


def valid_rows(count: int, day: int, start: int = 0) -> list[str]:
    return [VALID.format(day=day, minute=start + i) for i in range(count)]


def fit_bytes(tmp: Path) -> bytes:
    return write_fit(tmp / "x.fit", [FitSet(10, 60.0), FitSet(8, 60.0)]).read_bytes()


def hostile_cases(tmp: Path) -> dict[str, tuple[bytes, str, int]]:
    """name -> (content, expected status, valid rows that must load)."""
    header = CANONICAL_HEADER + "\n"
    fit = fit_bytes(tmp)
    days = iter(range(1, 29))  # each case's valid rows on a day of its own: no cross-file dedup

    def two() -> str:
        return "\n".join(valid_rows(2, next(days))) + "\n"

    def one(minute: int) -> str:
        return VALID.format(day=next(days), minute=minute)

    return {
        "random.bin": (bytes(range(256)) * 8, "failed", 0),
        "truncated.csv": ((header + two() + "2026-11-16T08:00:00,Hos").encode(), "loaded", 2),
        "truncated.fit": (fit[: len(fit) // 2], "failed", 0),
        "truncated.zip": (zipped({"a.csv": (header + two()).encode()})[:40], "failed", 0),
        "empty.csv": (b"", "failed", 0),
        "header-only.csv": (header.encode(), "loaded", 0),
        "bom.csv": (("\ufeff" + header + two()).encode(), "loaded", 2),
        "utf16.csv": ((header + two()).encode("utf-16"), "loaded", 2),
        "latin1.csv": (
            (header + two() + "2026-11-16T09:00:00,Übung,5,60,kg,,\n").encode("cp1252"),
            "loaded",
            2,
        ),
        "mixed-endings.csv": (
            (header + "\r\n".join(valid_rows(3, next(days))) + "\r" + one(30) + "\n").encode(),
            "loaded",
            4,
        ),
        "long-line.csv": (
            (header + two() + "x" * 100_000_000 + "\n" + one(40)).encode(),
            "loaded",
            3,
        ),
        "wide-header.csv": (
            (header.strip() + "," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n1\n").encode(),
            "failed",
            0,
        ),
        "open-quote.csv": (
            (
                header + two() + '2026-11-16T09:00:00,"Hostile Lift,5,60,kg,,\n' + one(50) + "\n"
            ).encode(),
            "loaded",
            3,
        ),
        "nan-inf.csv": (
            (header + two() + "2026-11-16T09:00:00,Hostile Lift,nan,inf,kg,,\n").encode(),
            "loaded",
            2,
        ),
        "absurd.csv": (
            (
                header
                + two()
                + "2026-11-16T09:00:00,Hostile Lift,100000,99999,kg,,\n"
                + "1900-01-01T00:00:00,Hostile Lift,5,60,kg,,\n"
                + "2100-01-01T00:00:00,Hostile Lift,5,60,kg,,\n"
            ).encode(),
            "loaded",
            2,
        ),
        "duplicate-header.csv": (
            (
                header.replace("reps", "reps,reps", 1) + "2026-11-16T07:00:00,X,5,5,60,kg,,\n"
            ).encode(),
            "failed",
            0,
        ),
        "formula.csv": (
            (header + two() + "2026-11-16T09:00:00,=cmd|' /C calc'!A0,5,60,kg,,\n").encode(),
            "loaded",
            2,
        ),
        "zip-slip.zip": (zipped({"../../etc/passwd": b"root:x:0:0"}), "failed", 0),
        "nested.zip": (zipped({"inner.zip": zipped({"a.csv": b"x"})}), "failed", 0),
        "bomb.zip": (zipped({"a.csv": b"0" * (20 << 20)}), "failed", 0),
    }


def test_hostile_corpus(workspace: Workspace, tmp_path: Path) -> None:
    cases = hostile_cases(tmp_path)
    for name, (content, _, _) in cases.items():
        target = workspace.inbox / "h1" / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(content)
    summary = run(workspace)
    outcomes = {info.path.removeprefix("h1/"): outcome for info, outcome in summary.files}
    assert set(outcomes) == set(cases)
    for name, (_, status, _) in cases.items():
        outcome = outcomes[name]
        assert outcome.status == status, (name, outcome)
        if status == "failed":
            assert outcome.error and len(outcome.error) > 10, name
    per_file = dict(
        workspace.query(
            "SELECT f.path, count(*) FROM sets s JOIN ingested_files f USING (file_id) "
            "WHERE s.exercise_raw = 'Hostile Lift' AND f.status = 'loaded' GROUP BY ALL"
        )
    )
    for name, (_, _, expected) in cases.items():
        assert per_file.get(f"h1/{name}", 0) == expected, name
    assert workspace.scalar("SELECT max(length(raw)) FROM rejects") < 5000
    assert (
        workspace.scalar("SELECT count(*) FROM sets WHERE exercise_raw = '=cmd|'' /C calc''!A0'")
        == 1
    )
    assert workspace.scalar("SELECT count(*) FROM sets WHERE exercise_raw = 'Übung'") == 1


def test_sql_metacharacters_are_data(workspace: Workspace) -> None:
    names = [
        "Robert'); DROP TABLE sets;--",
        'Curl" OR 1=1 --',
        "Press; DELETE FROM rejects",
        "Row $1 ? %s {}",
    ]
    rows = [
        f'2026-11-16T07:0{i}:00,"{n.replace(chr(34), chr(34) * 2)}",5,20,kg,,'
        for i, n in enumerate(names)
    ]
    workspace.write("a1/sql.csv", csv_text(*rows))
    workspace.write("a1/bad';--.csv", csv_text("2026-11-16T08:00:00,Squat,x,20,kg,,"))
    summary = run(workspace)
    assert summary.exit_code == 0
    stored = {r[0] for r in workspace.query("SELECT exercise_raw FROM sets")}
    assert stored == set(names)
    assert workspace.scalar("SELECT count(*) FROM rejects") == 1
    assert workspace.query("SELECT path FROM ingested_files ORDER BY 1") == [
        ("a1/bad';--.csv",),
        ("a1/sql.csv",),
    ]


garbage = st.text(
    alphabet=st.characters(blacklist_characters='\n\r"', blacklist_categories=("Cs",)),
    max_size=60,
)
lines = st.lists(st.one_of(st.just("VALID"), garbage), min_size=1, max_size=25)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines)
def test_garbage_never_loses_a_valid_row(
    tmp_path_factory: pytest.TempPathFactory, body: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    rows = []
    for index, line in enumerate(body):
        rows.append(VALID.format(day=1, minute=index) if line == "VALID" else line)
    path = folder / "a1.csv"
    path.write_text(CANONICAL_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    parsed = parsing.parse(path, "a1", CONFIG)
    assert not isinstance(parsed, str), parsed
    kept = parsed.sets.filter(parsed.sets["exercise_raw"] == "Hostile Lift").height
    assert kept == body.count("VALID")
    assert parsed.sets.height + parsed.rejects.height <= len(rows)  # no row counted twice


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=2048),
    st.sampled_from(["csv", "strong", "hevy", "fitnotes", "fit", "zip", "json", "raw"]),
)
def test_any_bytes_end_in_an_outcome(
    tmp_path_factory: pytest.TempPathFactory, noise: bytes, prefix: str
) -> None:
    folder = tmp_path_factory.mktemp("bytes")
    heads = {
        "csv": (CANONICAL_HEADER + "\n").encode(),
        "strong": b"Date,Workout Name,Exercise Name,Set Order,Weight,Reps,Seconds\n",
        "hevy": b'"title","start_time","exercise_title","set_index","set_type","reps"\n',
        "fitnotes": b"Date,Exercise,Category,Weight,Weight Unit,Reps\n",
        "fit": fit_bytes(folder)[:14],
        "zip": b"PK\x03\x04",
        "json": b'{"format": "repflow.machine/1", ',
        "raw": b"",
    }
    path = folder / "f.bin"
    path.write_bytes(heads[prefix] + noise)
    result = parsing.parse(path, "a1", CONFIG)
    if isinstance(result, str):
        assert result and "internal error" not in result, result
