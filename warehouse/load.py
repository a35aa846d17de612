"""Loading one file: its new and edited sets, its rejects and its record (warehouse/ingested.py),
in one transaction.

Deduplication is an anti-join on the natural key (source_format, athlete_id, performed_at,
exercise_key, set_index), never a constraint, so the same SQL runs on DuckLake.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import NamedTuple, Protocol

import duckdb
import polars as pl

from schemas.validate import duplicate_rejects, exercise_key
from warehouse.catalog import RESOLVED, exercise_names
from warehouse.db import bounded_memory, transaction
from warehouse.ingested import FileInfo, FileOutcome, record
from warehouse.spool import Spool
from warehouse.unspool import drop_spool, parquet, unspool

VALUE_COLUMNS = ("reps", "load_kg", "rpe", "set_type", "duration_s", "distance_m")
KEY_MATCH = (
    "s.source_format = i.source_format AND s.athlete_id = i.athlete_id "
    "AND s.performed_at = i.performed_at AND s.exercise_key = i.exercise_key "
    "AND s.set_index = i.set_index"
)
CHANGED = " OR ".join(f"s.{c} IS DISTINCT FROM i.{c}" for c in VALUE_COLUMNS)
# A fixed reader may also find the lifter's unit (round pounds written in kg): a correction
# compares it too, where a lifter's edit is about what was lifted.
CORRECTED = f"{CHANGED} OR s.load_unit IS DISTINCT FROM i.load_unit"
# Files read by an older reader of the incoming format than the one reading now ($version):
# what their sets change to is a correction of ours, not the lifter's edit.
OLDER_FILES = """
    CREATE OR REPLACE TEMP TABLE older_files AS
    SELECT file_id, max(coalesce(reader_version, 1)) AS version FROM ingested_files
    WHERE status = 'loaded' GROUP BY file_id HAVING max(coalesce(reader_version, 1)) < $version
"""
OLD_VALUES = (
    "s.source_format, s.athlete_id, s.performed_at, s.exercise_key, s.set_index, {change}, "
    "s.set_type, s.reps, s.load_kg, s.load_unit, s.rpe, s.duration_s, s.distance_m, s.file_id, "
    "s.source_line, o.version, $file_id, $version, $run_id, now()"
)
# The source's workout id, or one derived from the athlete, the format and the session key.
SESSION_ID = (
    "coalesce({rows}.session_id, 's' || substr(md5("
    "{rows}.athlete_id || chr(31) || {fmt} || chr(31) || {rows}.session_key), 1, 15))"
)
SET_COLUMNS = (
    "athlete_id, session_id, performed_at, exercise_raw, exercise_key, exercise_id, set_index, "
    "set_type, reps, load_kg, load_unit, rpe, duration_s, distance_m, device_id, target_reps, "
    "rest_s, source_format, file_id, source_line, line_hash, line_check, run_id"
)


def staged_rows(fmt_param: str, file_param: str) -> str:
    """The SELECT that turns a validated frame (`incoming_frame`) into `sets` columns. A file
    repeats a few exercise names over many rows: each name is matched to the catalog once
    (`exercise_names`, staged by `_names`)."""
    fmt = f"coalesce(f.source_format, {fmt_param})"
    return f"""
        WITH names AS ({RESOLVED})
        SELECT
            f.athlete_id,
            {SESSION_ID.format(rows="f", fmt=fmt)} AS session_id,
            f.performed_at, f.exercise_raw, f.exercise_key,
            coalesce(n.exercise_id, 'unnamed') AS exercise_id,
            f.set_index, f.set_type, f.reps, f.load_kg, f.load_unit, f.rpe, f.duration_s,
            f.distance_m, f.device_id, f.target_reps, f.rest_s, {fmt} AS source_format,
            {file_param} AS file_id, f.source_line, f.line_hash, f.line_check
        FROM incoming_frame f
        LEFT JOIN names n ON n.exercise_key = f.exercise_key AND n.fmt = {fmt}
    """


def fresh(con: duckdb.DuckDBPyConnection, fmt: str, spooled: str = "incoming_frame") -> bool:
    """True when no stored set can share a key with `incoming_frame`: none of its formats and
    athletes has a set stored in its time range. Then the rows are inserted as they are,
    without the anti-join and the revision join (the first load of a file, or a new week).

    The range and formats are read from `spooled`, which holds at least the incoming sets: a
    spool's Parquet gives its range from the files' statistics, without reading the rows. Only
    when some stored set falls in that range are the incoming athletes read."""
    bounds = con.execute(
        f"SELECT min(performed_at), max(performed_at), "
        f"list(DISTINCT coalesce(source_format, $fmt)) FROM {spooled}",
        {"fmt": fmt},
    ).fetchone()
    if bounds is None or bounds[0] is None:  # no sets
        return True
    lo, hi, formats = bounds
    in_range = "performed_at BETWEEN $lo AND $hi AND list_contains($formats, source_format)"
    params = {"lo": lo, "hi": hi, "formats": formats}
    if con.execute(f"SELECT 1 FROM sets WHERE {in_range} LIMIT 1", params).fetchone() is None:
        return True
    overlap = con.execute(
        f"""
        SELECT 1 FROM sets
        WHERE {in_range} AND athlete_id IN (SELECT DISTINCT athlete_id FROM incoming_frame)
        LIMIT 1
        """,
        params,
    ).fetchone()
    return overlap is None


def _insert_fresh(con: duckdb.DuckDBPyConnection, fmt: str, file_id: str, run_id: str) -> int:
    inserted = con.execute(
        f"INSERT INTO sets ({SET_COLUMNS}) SELECT *, $run_id AS run_id FROM "
        f"({staged_rows('$fmt', '$file_id')})",
        {"fmt": fmt, "file_id": file_id, "run_id": run_id},
    ).fetchone()
    return inserted[0] if inserted else 0


def _stage(con: duckdb.DuckDBPyConnection, fmt: str, file_id: str) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE incoming AS {staged_rows('$fmt', '$file_id')}",
        {"fmt": fmt, "file_id": file_id},
    )


class Merged(NamedTuple):
    loaded: int
    revised: int  # edits of the lifter's
    corrected: int  # sets an older reader had read, changed by this one
    removed: int  # sets an older reader stored that this one does not find (`reread`)


def _merge(
    con: duckdb.DuckDBPyConnection, file_id: str, run_id: str, version: int, reread: bool = False
) -> Merged:
    """Store new sets and replace changed ones: old values to set_revisions when the lifter
    edited them, to set_corrections when an older reader had read them.

    `reread`: the file is read again by a newer reader (`repflow reload`). Only the sets it
    stored itself change, and those it no longer finds are removed; a set another file stored
    since then (an edit in a later export) stays as that file left it."""
    params = {"file_id": file_id, "run_id": run_id, "version": version}
    con.execute(OLDER_FILES, {"version": version})
    own = "AND s.file_id = $file_id" if reread else ""
    older = "JOIN older_files o ON o.file_id = s.file_id"
    corrected = _count(
        con,
        f"""
        INSERT INTO set_corrections
        SELECT {OLD_VALUES.format(change="'changed'")}
        FROM sets s JOIN incoming i ON {KEY_MATCH} {older}
        WHERE ({CORRECTED}) {own}
        """,
        params,
    )
    revised = _count(
        con,
        f"""
        INSERT INTO set_revisions
        SELECT s.source_format, s.athlete_id, s.performed_at, s.exercise_key, s.set_index,
               s.set_type, s.reps, s.load_kg, s.load_unit, s.rpe, s.duration_s, s.distance_m,
               s.file_id, s.source_line, $file_id, $run_id, now()
        FROM sets s JOIN incoming i ON {KEY_MATCH}
        WHERE ({CHANGED}) AND s.file_id NOT IN (SELECT file_id FROM older_files) {own}
        """,
        params,
    )
    if revised or corrected:
        _count(
            con,
            f"""
            UPDATE sets s SET
                session_id = i.session_id, exercise_raw = i.exercise_raw,
                exercise_id = i.exercise_id, set_type = i.set_type, reps = i.reps,
                load_kg = i.load_kg, load_unit = i.load_unit, rpe = i.rpe,
                duration_s = i.duration_s, distance_m = i.distance_m, device_id = i.device_id,
                target_reps = i.target_reps, rest_s = i.rest_s,
                file_id = i.file_id, source_line = i.source_line, line_hash = i.line_hash,
                line_check = i.line_check, run_id = $run_id
            FROM incoming i
            WHERE {KEY_MATCH} {own}
              AND (({CHANGED})
                   OR (({CORRECTED}) AND s.file_id IN (SELECT file_id FROM older_files)))
            """,
            params,
        )
    removed = _remove_unfound(con, params) if reread else 0
    # An unchanged set takes the hash of the row it was just read from: stored before hashes
    # existed, or read with other settings, it is skipped from the next re-export on. It takes
    # that row's session too, which a re-export numbers it by (flows/reexport.py).
    con.execute(
        f"""
        UPDATE sets s SET line_hash = i.line_hash, line_check = i.line_check,
                          session_id = i.session_id
        FROM incoming i
        WHERE {KEY_MATCH} AND NOT ({CORRECTED}) AND i.line_hash IS NOT NULL
          AND (s.line_hash IS DISTINCT FROM i.line_hash
               OR s.line_check IS DISTINCT FROM i.line_check)
        """
    )
    loaded = _count(
        con,
        f"""
        INSERT INTO sets ({SET_COLUMNS})
        SELECT i.*, $run_id AS run_id FROM incoming i
        WHERE NOT EXISTS (SELECT 1 FROM sets s WHERE {KEY_MATCH})
        """,
        params,
    )
    con.execute("DROP TABLE older_files")
    return Merged(loaded, revised, corrected, removed)


def _remove_unfound(con: duckdb.DuckDBPyConnection, params: dict[str, object]) -> int:
    """Sets a file stored that its newer reading does not find (a row that is not a set)."""
    unfound = f"s.file_id = $file_id AND NOT EXISTS (SELECT 1 FROM incoming i WHERE {KEY_MATCH})"
    removed = _count(
        con,
        f"""
        INSERT INTO set_corrections
        SELECT {OLD_VALUES.format(change="'removed'")}
        FROM sets s JOIN older_files o ON o.file_id = s.file_id
        WHERE {unfound}
        """,
        params,
    )
    _count(con, f"DELETE FROM sets s WHERE {unfound}", params)
    return removed


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> int:
    """Run `sql` with those of `params` it names (DuckDB refuses the others); its row count."""
    row = con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchone()
    return int(row[0]) if row and row[0] else 0


def _insert_rejects(con: duckdb.DuckDBPyConnection, source: str, file_id: str, run_id: str) -> None:
    con.execute(
        "INSERT INTO rejects (file_id, source_line, raw, errors, run_id, line_hash, line_check) "
        f"SELECT ?, source_line, raw, CAST(errors AS JSON), ?, line_hash, line_check FROM {source}",
        [file_id, run_id],
    )


class Decided(Protocol):
    """What was decided for a file that did not say (sources.base.Decisions)."""

    @property
    def unit(self) -> str | None: ...
    @property
    def unit_source(self) -> str | None: ...
    @property
    def unit_evidence(self) -> str | None: ...
    @property
    def date_order(self) -> str | None: ...
    @property
    def date_order_source(self) -> str | None: ...


class Loadable(Protocol):
    """A file read and validated: what `load_file` stores."""

    @property
    def format(self) -> str: ...
    @property
    def sets(self) -> pl.DataFrame | Spool: ...
    @property
    def rejects(self) -> pl.DataFrame | Spool: ...
    @property
    def skipped(self) -> int: ...
    @property
    def machines(self) -> pl.DataFrame | None: ...
    @property
    def rep_metrics(self) -> pl.DataFrame | None: ...
    @property
    def known(self) -> int: ...
    @property
    def reader_version(self) -> int: ...
    @property
    def decisions(self) -> Decided: ...
    @property
    def muscles(self) -> pl.DataFrame | None: ...


def _store_machines(con: duckdb.DuckDBPyConnection, machines: pl.DataFrame, file_id: str) -> None:
    """The latest description of each machine wins."""
    con.register("machines_frame", machines.to_arrow())
    con.execute("DELETE FROM machines WHERE device_id IN (SELECT device_id FROM machines_frame)")
    con.execute(
        "INSERT INTO machines SELECT device_id, model, exercise_raw, stack_increment_kg, ? "
        "FROM machines_frame",
        [file_id],
    )
    con.unregister("machines_frame")


def _store_muscles(
    con: duckdb.DuckDBPyConnection, muscles: pl.DataFrame, info: FileInfo, fmt: str, run_id: str
) -> None:
    """The latest file to name an exercise's muscle groups replaces them."""
    named = muscles.with_columns(exercise_key=exercise_key(pl.col("exercise")))
    con.register("muscles_frame", named.to_arrow())
    params: dict[str, object] = {
        "athlete": info.athlete_id,
        "fmt": fmt,
        "file_id": info.file_id,
        "run_id": run_id,
    }
    try:
        _count(
            con,
            "DELETE FROM exercise_muscle_groups WHERE athlete_id = $athlete "
            "AND source_format = $fmt AND exercise_key IN (SELECT exercise_key FROM muscles_frame)",
            params,
        )
        _count(
            con,
            "INSERT INTO exercise_muscle_groups SELECT $athlete, $fmt, exercise_key, "
            "min(exercise), role, muscle_group, $file_id, $run_id FROM muscles_frame "
            "GROUP BY exercise_key, role, muscle_group",
            params,
        )
    finally:
        con.unregister("muscles_frame")


# Each rep of a set stored from this file (or before it, by another) that has none stored yet. A
# rep's loads convert to kg as its set's did: by the set's load_kg over the load it was read
# with, so the unit the file's loads were read in is decided once, for the set.
STORE_REPS = """
    INSERT INTO rep_metrics
    SELECT coalesce(f.source_format, $fmt), f.athlete_id, f.performed_at, f.exercise_key,
           f.set_index, r.rep, r.performed_at,
           r.load_left * k.per_load, r.load_right * k.per_load,
           r.power_w_left, r.power_w_right, r.speed_m_s_left, r.speed_m_s_right,
           r.rom_m_left, r.rom_m_right, $file_id, $run_id
    FROM reps_frame r
    JOIN incoming_frame f USING (source_line)
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.set_load > 0 THEN f.load_kg / r.set_load ELSE 1 END AS per_load
    ) k
    WHERE NOT EXISTS (
        SELECT 1 FROM rep_metrics m
        WHERE m.source_format = coalesce(f.source_format, $fmt) AND m.athlete_id = f.athlete_id
          AND m.performed_at = f.performed_at AND m.exercise_key = f.exercise_key
          AND m.set_index = f.set_index AND m.rep = r.rep
    )
"""


def _store_reps(
    con: duckdb.DuckDBPyConnection, reps: pl.DataFrame, fmt: str, file_id: str, run_id: str
) -> None:
    con.register("reps_frame", reps.to_arrow())
    try:
        con.execute(STORE_REPS, {"fmt": fmt, "file_id": file_id, "run_id": run_id})
    finally:
        con.unregister("reps_frame")


def load_file(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    parsed: Loadable,
    run_id: str,
    reread: bool = False,
) -> FileOutcome:
    """Store one file's sets, rejects and machines and record it, all or nothing. `reread`:
    the file was stored before and is read again by a newer reader (see `_merge`)."""
    if not isinstance(parsed.sets, Spool):
        return _load(con, info, parsed, run_id, reread)
    # Keeping the file's order would make DuckDB buffer the insert; `sets` has no order.
    with bounded_memory(con):
        return _load(con, info, parsed, run_id, reread)


def _load(
    con: duckdb.DuckDBPyConnection, info: FileInfo, parsed: Loadable, run_id: str, reread: bool
) -> FileOutcome:
    with transaction(con):
        return load_in(con, info, parsed, run_id, reread)


def load_in(
    con: duckdb.DuckDBPyConnection,
    info: FileInfo,
    parsed: Loadable,
    run_id: str,
    reread: bool = False,
) -> FileOutcome:
    """`load_file` inside the caller's transaction (a batch's: warehouse/load_batch.py)."""
    fmt, version = parsed.format, parsed.reader_version
    if parsed.machines is not None and parsed.machines.height:
        _store_machines(con, parsed.machines, info.file_id)
    if parsed.muscles is not None and parsed.muscles.height and info.athlete_id is not None:
        _store_muscles(con, parsed.muscles, info, fmt, run_id)
    if reread:  # its rejects are those of the newer reading
        con.execute("DELETE FROM rejects WHERE file_id = ?", [info.file_id])
    with (
        _incoming(con, parsed, info.file_id, run_id) as (height, rejects, rejected),
        exercise_names_of(con, fmt),
    ):
        spooled = parquet(parsed.sets.sets_pattern) if isinstance(parsed.sets, Spool) else None
        if not reread and fresh(con, fmt, spooled or "incoming_frame"):
            merged = Merged(_insert_fresh(con, fmt, info.file_id, run_id), 0, 0, 0)
        else:
            _stage(con, fmt, info.file_id)
            merged = _merge(con, info.file_id, run_id, version, reread)
            con.execute("DROP TABLE incoming")
        if parsed.rep_metrics is not None and parsed.rep_metrics.height:
            _store_reps(con, parsed.rep_metrics, fmt, info.file_id, run_id)
    con.register("rejects_frame", rejects.to_arrow())
    try:
        _insert_rejects(con, "rejects_frame", info.file_id, run_id)
    finally:
        con.unregister("rejects_frame")
    outcome = loaded_outcome(parsed, merged, height, rejected)
    record(con, info, outcome, run_id)
    return outcome


def loaded_outcome(parsed: Loadable, merged: Merged, height: int, rejected: int) -> FileOutcome:
    """A stored file's outcome: `height` sets to store, `rejected` rows rejected."""
    changed = merged.loaded + merged.revised + merged.corrected
    return FileOutcome(
        status="loaded",
        format=parsed.format,
        loaded=merged.loaded,
        revised=merged.revised,
        unchanged=height - changed + parsed.known,
        rejected=rejected,
        skipped=parsed.skipped,
        corrected=merged.corrected + merged.removed,
        reader_version=parsed.reader_version,
        unit=parsed.decisions.unit,
        unit_source=parsed.decisions.unit_source,
        unit_evidence=parsed.decisions.unit_evidence,
        date_order=parsed.decisions.date_order,
        date_order_source=parsed.decisions.date_order_source,
    )


def exercise_names_of(
    con: duckdb.DuckDBPyConnection, fmt: str
) -> contextlib.AbstractContextManager[None]:
    """The file's exercise names, each once, for `_staged_rows` to map."""
    query = "SELECT DISTINCT coalesce(source_format, $fmt), exercise_key FROM incoming_frame"
    return exercise_names(con, query, {"fmt": fmt})


@contextlib.contextmanager
def _incoming(
    con: duckdb.DuckDBPyConnection, parsed: Loadable, file_id: str, run_id: str
) -> Iterator[tuple[int, pl.DataFrame, int]]:
    """Stage the file's sets as `incoming_frame`; give the number of sets to store, the rejects
    still to insert, and how many rows the file rejects in all."""
    sets, rejects = parsed.sets, parsed.rejects
    if isinstance(sets, Spool):
        duplicates = duplicate_rejects(unspool(con, sets))
        _insert_rejects(con, parquet(sets.rejects_pattern), file_id, run_id)
        yield sets.height - duplicates.height, duplicates, sets.rejected + duplicates.height
        drop_spool(con)  # after a failure, the rollback drops them
        return
    assert isinstance(rejects, pl.DataFrame)  # spooled with the sets, or not at all
    con.register("incoming_frame", sets.to_arrow())
    try:
        yield sets.height, rejects, rejects.height
    finally:
        con.unregister("incoming_frame")
