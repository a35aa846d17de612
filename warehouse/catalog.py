"""The exercise catalog and athlete settings, mirrored from config into the warehouse, and how a
set's name finds its exercise there.

A name maps, in this order, by an alias; for Garmin, whose names are "Category: Subtype", by the
subtype (its alias, then its signature) or the category's alias; by its signature when exactly
one exercise has it (schemas/exercise_match.py); else it keeps a slug of its own. Names are
resolved once per distinct name, never per set: at load for a file's names, and for every
stored name when the catalog changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from schemas.catalog import Catalog, slug
from schemas.config_files import ProgramsFile
from schemas.exercise_match import garmin_parts, signature
from schemas.set_row import RowContext
from warehouse.db import transaction

GARMIN = "garmin_fit"
COLUMNS: dict[str, pl.DataType] = {
    "exercise_id": pl.String(),
    "name": pl.String(),
    "program_id": pl.String(),
    "aliases": pl.List(pl.String()),
    "free_exercise_db_id": pl.String(),
    "equipment": pl.String(),
    "mechanic": pl.String(),
    "category": pl.String(),
    "primary_muscles": pl.List(pl.String()),
    "secondary_muscles": pl.List(pl.String()),
    "match_keys": pl.List(pl.String()),
    "assisted": pl.Boolean(),
}
NAME_COLUMNS: dict[str, pl.DataType] = {
    "fmt": pl.String(),
    "exercise_key": pl.String(),
    "match_key": pl.String(),
    "subtype_key": pl.String(),
    "subtype_match_key": pl.String(),
    "category_key": pl.String(),
    "slug": pl.String(),
}
# The exercise of each name in `exercise_names` (a frame of NAME_COLUMNS). A signature maps
# only when no other exercise has it: the matcher never guesses.
RESOLVED = """
    WITH alias AS (SELECT unnest(aliases) AS exercise_key, exercise_id FROM exercises),
    sure AS (
        SELECT match_key, min(exercise_id) AS exercise_id
        FROM (SELECT unnest(match_keys) AS match_key, exercise_id FROM exercises)
        GROUP BY match_key HAVING count(*) = 1
    )
    SELECT n.fmt, n.exercise_key,
           coalesce(a.exercise_id, sa.exercise_id, ss.exercise_id, ca.exercise_id,
                    m.exercise_id, n.slug) AS exercise_id
    FROM exercise_names n
    LEFT JOIN alias a ON a.exercise_key = n.exercise_key
    LEFT JOIN alias sa ON sa.exercise_key = n.subtype_key
    LEFT JOIN sure ss ON ss.match_key = n.subtype_match_key
    LEFT JOIN alias ca ON ca.exercise_key = n.category_key
    LEFT JOIN sure m ON m.match_key = n.match_key
"""


def _name_row(fmt: str, key: str) -> dict[str, str | None]:
    subtype = category = None
    if fmt == GARMIN:
        category, subtype = garmin_parts(key)
        # "Pull Up: Band Assisted Pull Up" is no pull-up: the category does not say it.
        if subtype is not None and "assist" in subtype:
            category = None
    return {
        "fmt": fmt,
        "exercise_key": key,
        "match_key": signature(key),
        "subtype_key": subtype,
        "subtype_match_key": signature(subtype) if subtype else None,
        "category_key": category,
        "slug": slug(key),
    }


@contextmanager
def exercise_names(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, object] | None = None
) -> Iterator[None]:
    """The distinct (format, exercise_key) pairs `query` gives, with what RESOLVED reads of
    them, as the frame `exercise_names` while the block runs."""
    pairs = con.execute(query, params or {}).fetchall()
    frame = pl.DataFrame([_name_row(fmt, key) for fmt, key in pairs], schema=NAME_COLUMNS)
    con.register("exercise_names", frame.to_arrow())
    try:
        yield
    finally:
        con.unregister("exercise_names")


def sync_exercises(con: duckdb.DuckDBPyConnection, catalog: Catalog, programs: ProgramsFile) -> int:
    """Replace the catalog; re-map stored sets when it changed. Returns the sets re-mapped."""
    frame = pl.DataFrame(
        [
            {
                "exercise_id": entry.exercise_id,
                "name": entry.name,
                "program_id": programs.program_id_for(entry.exercise_id),
                "aliases": sorted(entry.aliases),
                "free_exercise_db_id": entry.free_exercise_db_id,
                "equipment": entry.equipment,
                "mechanic": entry.mechanic,
                "category": entry.category,
                "primary_muscles": list(entry.primary_muscles),
                "secondary_muscles": list(entry.secondary_muscles),
                "match_keys": entry.match_keys(),
                "assisted": entry.assisted,
            }
            for entry in catalog.entries.values()
        ],
        schema=COLUMNS,
    )
    columns = ", ".join(COLUMNS)
    stored = con.execute(f"SELECT {columns} FROM exercises ORDER BY exercise_id").pl()
    if stored.height == frame.height and stored.equals(frame):
        return 0
    with transaction(con):
        con.execute("DELETE FROM exercises")
        con.register("catalog_frame", frame.to_arrow())
        con.execute(f"INSERT INTO exercises ({columns}) SELECT {columns} FROM catalog_frame")
        con.unregister("catalog_frame")
        with exercise_names(con, "SELECT DISTINCT source_format, exercise_key FROM sets"):
            remapped = con.execute(
                f"""
                UPDATE sets SET exercise_id = r.exercise_id FROM ({RESOLVED}) r
                WHERE sets.exercise_key = r.exercise_key AND sets.source_format = r.fmt
                  AND sets.exercise_id <> r.exercise_id
                """
            ).fetchone()
    return remapped[0] if remapped else 0


def sync_athletes(con: duckdb.DuckDBPyConnection, context: RowContext) -> None:
    """Every athlete with sets, with the timezone and unit the views read dates in."""
    athletes = [row[0] for row in con.execute("SELECT DISTINCT athlete_id FROM sets").fetchall()]
    frame = pl.DataFrame(
        {
            "athlete_id": athletes,
            "timezone": [context.for_athlete("timezone", a) for a in athletes],
            "unit": [context.for_athlete("unit", a) for a in athletes],
        },
        schema={"athlete_id": pl.String, "timezone": pl.String, "unit": pl.String},
    )
    with transaction(con):
        con.execute("DELETE FROM athletes")
        con.register("athletes_frame", frame.to_arrow())
        con.execute("INSERT INTO athletes SELECT * FROM athletes_frame")
        con.unregister("athletes_frame")
