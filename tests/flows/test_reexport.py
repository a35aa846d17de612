"""A re-export looks its known rows up instead of validating them again, and stores exactly what
reading it in full stores: the same sets, numbers, revisions, rejects and file records."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
import pydantic
import pydantic_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import loading, parsing, reexport
from flows.config import Config, load
from schemas.row_hash import code_fingerprint
from warehouse import stored_lines
from warehouse.db import writer
from warehouse.load import FileInfo

TABLES = {
    "sets": "SELECT * EXCLUDE (run_id) FROM sets ORDER BY ALL",
    "set_revisions": "SELECT * EXCLUDE (run_id, revised_at) FROM set_revisions ORDER BY ALL",
    "rejects": "SELECT * EXCLUDE (run_id) REPLACE (errors::VARCHAR AS errors) FROM rejects "
    "ORDER BY ALL",
    "ingested_files": "SELECT * EXCLUDE (run_id, ingested_at) FROM ingested_files ORDER BY ALL",
}


@dataclass(frozen=True)
class Row:
    athlete: str
    day: int
    minute: int
    exercise: str
    reps: str
    load: str
    set_index: str = ""
    session: str = ""

    def line(self, numbered: bool, sessions: bool) -> str:
        # 03:xx UTC is the day before in Los Angeles: a timezone changes the session key.
        stamp = f"2026-10-{self.day:02d}T03:{self.minute:02d}:00Z"
        text = f"{self.athlete},{stamp},{self.exercise},{self.reps},{self.load},kg"
        return (
            text
            + (f",{self.set_index}" if numbered else "")
            + (f",{self.session}" if sessions else "")
        )


def export(rows: list[Row], numbered: bool, sessions: bool | str = False) -> str:
    """The rows as a canonical CSV, with a session_id column when `sessions`: as the rows have
    it (`True` or "mixed"), or with every blank one given ("given")."""
    if sessions == "given":
        rows = [replace(row, session=row.session or "W1") for row in rows]
    header = "athlete_id,performed_at,exercise,reps,load,unit"
    header += (",set_index" if numbered else "") + (",session_id" if sessions else "")
    lines = (row.line(numbered, bool(sessions)) for row in rows)
    return "\n".join([header, *lines]) + "\n"


def load_files(
    folder: Path, texts: list[str], look_up: bool, zones: list[str] | None = None
) -> tuple:
    """Load each text in turn as the same athlete's export, each under its timezone setting;
    give the tables and each parse's count of known rows. `look_up` says whether a parse may
    look rows up in the warehouse."""
    folder.mkdir(parents=True)
    db = folder / "warehouse.duckdb"
    with writer(db):
        pass  # migrated, as `repflow` does before any file
    known = []
    for n, text in enumerate(texts):
        path = folder / f"export-{n}.csv"
        path.write_text(text, encoding="utf-8")
        zone = zones[n] if zones else "UTC"
        known.append(_store(db, path, load({"db": db, "timezone": zone}), look_up))
    with writer(db) as con:
        tables = {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
    return tables, known


def _store(db: Path, path: Path, config: Config, look_up: bool) -> int:
    info = parsing.fingerprint(path, path.name, "a1")
    if look_up:
        parsed = parsing.parse(path, "a1", config)
    else:
        parsed = parsing.parse_with(path, "a1", config.settings.row_context())
    assert not isinstance(parsed, str), parsed
    loading.store(db, FileInfo(info.file_id, info.path, info.sha256, info.bytes, "a1"), parsed,
                   None, "r")  # fmt: skip
    return parsed.known


rows = st.builds(
    Row,
    # A blank athlete is the folder's (a1).
    athlete=st.sampled_from(["a1", "a2", ""]),
    day=st.integers(1, 3),
    # Sets of one session at different times: one group, different keys.
    minute=st.sampled_from([0, 0, 5]),
    # "squat " is Squat's group under another text; "Pull, Up" has a field too many (a broken
    # row); "" and "ten" reps are rejected.
    exercise=st.sampled_from(["Squat", "squat ", "Bench", "Pull, Up"]),
    reps=st.sampled_from(["5", "5", "8", "ten", ""]),
    load=st.sampled_from(["60", "62.5"]),
    set_index=st.sampled_from(["", "1", "2", "3"]),
    # A given session id, one that equals a blank one's local date (one session key), or none.
    session=st.sampled_from(["", "", "W1", "W2", "2026-10-01"]),
)
LA = "America/Los_Angeles"
edits = st.lists(
    st.tuples(
        st.sampled_from(["append", "insert", "delete", "replace", "repeat", "swap"]),
        st.integers(0, 100),
        rows,
    ),
    max_size=4,
)


def edited(base: list[Row], changes: list[tuple[str, int, Row]]) -> list[Row]:
    """The next export: the same history with some rows added, removed, changed or moved."""
    out = list(base)
    for kind, at, row in changes:
        where = at % (len(out) + 1)
        if kind == "append":
            out.append(row)
        elif kind == "insert":
            out.insert(where, row)
        elif out and kind == "delete":
            out.pop(where % len(out))
        elif out and kind == "replace":
            out[where % len(out)] = row
        elif out and kind == "repeat":
            out.insert(where, out[where % len(out)])
        elif len(out) > 1 and kind == "swap":
            i, j = where % len(out), at * 7 % len(out)
            out[i], out[j] = out[j], out[i]
    return out


def test_a_reexport_stores_what_a_full_read_stores(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    looked_up_at_all = []

    # Derandomized: the same examples every run, so the share of them that the lookup takes
    # (asserted below) does not vary from run to run.
    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        base=st.lists(rows, max_size=14),
        changes=st.lists(edits, min_size=1, max_size=2),
        numbered=st.booleans(),
        sessions=st.sampled_from(["", "given", "mixed"]),
        # A timezone changed between loads reads every row again, once.
        zones=st.sampled_from([["UTC"] * 3, ["UTC", "UTC", LA], ["UTC", LA, LA], [LA] * 3]),
    )
    def check_reexport(
        base: list[Row],
        changes: list[list[tuple[str, int, Row]]],
        numbered: bool,
        sessions: str,
        zones: list[str],
    ) -> None:
        exports = [base]
        for change in changes:
            exports.append(edited(exports[-1], change))
        texts = [export(rows, numbered, sessions) for rows in exports]
        root = tmp_path_factory.mktemp("reexport")
        looked_up, known = load_files(root / "looked-up", texts, look_up=True, zones=zones)
        full, _ = load_files(root / "full", texts, look_up=False, zones=zones)
        for table in TABLES:
            assert looked_up[table] == full[table], table
        looked_up_at_all.append(any(known[1:]))

    check_reexport()
    # Not a test of the fallback alone: many re-exports were taken from the warehouse.
    assert sum(looked_up_at_all) >= len(looked_up_at_all) // 4, looked_up_at_all


def test_an_appended_export_validates_only_its_new_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    history = [Row("a1", day, 0, "Squat", "5", "60", "") for day in (1, 2) for _ in range(3)]
    history.append(Row("a1", 2, 0, "Squat", "ten", "60", ""))  # rejected each time, same reasons
    later = history + [Row("a1", 3, 0, "Squat", "5", "62.5", "") for _ in range(3)]
    texts = [export(history, False), export(later, False)]
    looked_up, known = load_files(tmp_path / "looked-up", texts, look_up=True)
    full, _ = load_files(tmp_path / "full", texts, look_up=False)
    assert known == [0, 6]  # the first load finds nothing; the re-export knows its six sets
    assert looked_up == full
    stored = {row[8:10] for row in looked_up["ingested_files"]}  # (loaded, revised) per file
    assert stored == {(6, 0), (3, 0)}


def test_changed_settings_read_every_row_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row read under other settings may store other values: its hash differs, so it is not
    known, and the full read stores what the new settings say."""
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    history = [Row("a1", day, 0, "Squat", "5", "60", "") for day in (1, 2)]
    folder = tmp_path / "w"
    _, known_before = load_files(folder, [export(history, False)], look_up=True)
    db = folder / "warehouse.duckdb"
    path = folder / "again.csv"
    path.write_text(export(history, False), encoding="utf-8")
    same = _store(db, path, load({"db": db}), look_up=True)
    path.write_text(export(history, False) + "\n", encoding="utf-8")  # new bytes, same rows
    in_pounds = _store(db, path, load({"db": db, "unit": "lb"}), look_up=True)
    assert (known_before, same, in_pounds) == ([0], 2, 0)


@pytest.mark.parametrize(
    ("module", "attribute"),
    [(pl, "__version__"), (pydantic, "VERSION"), (pydantic_core, "__version__")],
    ids=["polars", "pydantic", "pydantic_core"],
)
def test_an_upgraded_library_reads_every_row_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: object, attribute: str
) -> None:
    """Polars' hashes hold within one version, and pydantic decides and explains rejects: after
    an upgrade no stored row is taken as known, and a rejected one is explained anew."""
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    history = [Row("a1", day, 0, "Squat", "5", "60", "") for day in (1, 2)]
    folder = tmp_path / "w"
    load_files(folder, [export(history, False)], look_up=True)
    db = folder / "warehouse.duckdb"
    path = folder / "again.csv"
    path.write_text(export(history, False), encoding="utf-8")
    monkeypatch.setattr(module, attribute, "99.0.0")
    code_fingerprint.cache_clear()
    try:
        assert _store(db, path, load({"db": db}), look_up=True) == 0
    finally:
        code_fingerprint.cache_clear()


def test_sets_stored_before_hashes_get_them_from_the_next_full_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse loaded before migration 0007 has no hashes: its next re-export is read in
    full, and leaves every unchanged set with its row's hash, so the one after is looked up."""
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    history = [Row("a1", 1, minute, "Squat", "5", "60", "") for minute in (0, 5)]
    later = [*history, Row("a1", 2, 0, "Squat", "5", "62.5", "")]
    folder = tmp_path / "w"
    load_files(folder, [export(history, False)], look_up=True)
    db = folder / "warehouse.duckdb"
    with writer(db) as con:
        con.execute("UPDATE sets SET line_hash = NULL, line_check = NULL")
    known = []
    for n, sets in enumerate([later, [*later, Row("a1", 3, 0, "Squat", "5", "65", "")]]):
        path = folder / f"later-{n}.csv"
        path.write_text(export(sets, False), encoding="utf-8")
        known.append(_store(db, path, load({"db": db}), look_up=True))
        with writer(db) as con:
            missing = con.execute("SELECT count(*) FROM sets WHERE line_hash IS NULL").fetchone()
        assert missing == (0,)
    assert known == [0, 3]


def test_too_many_stored_sets_to_hold_read_the_file_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    monkeypatch.setattr(stored_lines, "MAX_LOOKUP", 1)
    history = [Row("a1", 1, minute, "Squat", "5", "60", "") for minute in (0, 5)]
    texts = [
        export(history, False),
        export([*history, Row("a1", 2, 0, "Squat", "5", "60", "")], False),
    ]
    looked_up, known = load_files(tmp_path / "looked-up", texts, look_up=True)
    full, _ = load_files(tmp_path / "full", texts, look_up=False)
    assert known == [0, 0] and looked_up == full


@pytest.mark.parametrize(
    ("texts", "zones"),
    [
        # A given session id that equals a blank one's local date: one session key.
        (
            [
                export([Row("a1", 1, 0, "Squat", "5", "60")], False, True),
                export(
                    [Row("a1", 1, 0, "Squat", "5", "60"), Row("a1", 1, 5, "Squat", "5", "60",
                                                                session="2026-10-01")],
                    False, True,
                ),
            ],
            ["UTC", "UTC"],
        ),
        # The same set under another session id, then a set after it in that session.
        (
            [
                export([Row("a1", 1, 0, "Squat", "5", "60", session="W1")], False, True),
                export([Row("a1", 1, 0, "Squat", "5", "60", session="W2")], False, True),
                export(
                    [Row("a1", 1, 0, "Squat", "5", "60", session="W2"),
                     Row("a1", 1, 5, "Squat", "5", "60", session="W2")],
                    False, True,
                ),
            ],
            ["UTC", "UTC", "UTC"],
        ),
        # The same set read in another timezone (another local date), then one after it.
        (
            [
                export([Row("a1", 2, 0, "Squat", "5", "60")], False),
                export([Row("a1", 2, 0, "Squat", "5", "60")], False),
                export([Row("a1", 2, 0, "Squat", "5", "60"), Row("a1", 2, 5, "Squat", "5", "60")],
                       False),
            ],
            ["UTC", "America/Los_Angeles", "America/Los_Angeles"],
        ),
    ],
    ids=["session-id-equals-a-local-date", "session-id-changed", "timezone-changed"],
)  # fmt: skip
def test_sets_are_numbered_in_the_session_a_full_read_gives_them(
    texts: list[str], zones: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: sessions that a full read numbers together, or that an unchanged set
    moved to, were numbered apart by the look-up."""
    monkeypatch.setattr(reexport, "MIN_ROWS", 0)
    looked_up, _ = load_files(tmp_path / "looked-up", texts, look_up=True, zones=zones)
    full, _ = load_files(tmp_path / "full", texts, look_up=False, zones=zones)
    assert looked_up == full
    assert max(row[6] for row in full["sets"]) == 2  # the later set is the session's second
