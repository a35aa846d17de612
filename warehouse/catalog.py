"""The exercise catalog and athlete settings, mirrored from config into the warehouse."""

from __future__ import annotations

import duckdb
import polars as pl

from schemas.config_files import ExercisesFile, ProgramsFile, exercise_key
from schemas.set_row import RowContext
from warehouse.db import transaction
from warehouse.load import ALIASES, EXERCISE_ID, MATCH_ALIASES


def sync_exercises(
    con: duckdb.DuckDBPyConnection, exercises: ExercisesFile, programs: ProgramsFile
) -> int:
    """Replace the catalog; re-map stored sets when it changed. Returns the sets re-mapped."""
    catalog = pl.DataFrame(
        [
            {
                "exercise_id": exercise_id,
                "name": exercise.name,
                "program_id": programs.program_id_for(exercise_id),
                "aliases": sorted({exercise_key(a) for a in [exercise.name, *exercise.aliases]}),
                "assisted": exercise.assisted,
            }
            for exercise_id, exercise in sorted(exercises.exercises.items())
        ],
        schema={
            "exercise_id": pl.String,
            "name": pl.String,
            "program_id": pl.String,
            "aliases": pl.List(pl.String),
            "assisted": pl.Boolean,
        },
    )
    stored = con.execute(
        "SELECT exercise_id, name, program_id, aliases, assisted FROM exercises "
        "ORDER BY exercise_id"
    ).pl()
    if stored.height == catalog.height and stored.equals(catalog):
        return 0
    with transaction(con):
        con.execute("DELETE FROM exercises")
        con.register("catalog_frame", catalog.to_arrow())
        con.execute("INSERT INTO exercises SELECT * FROM catalog_frame")
        con.unregister("catalog_frame")
        remapped = con.execute(
            f"""
            WITH {ALIASES},
            target AS (
                SELECT DISTINCT s.source_format, s.exercise_key,
                       {EXERCISE_ID.format(rows="s")} AS exercise_id
                FROM sets s {MATCH_ALIASES.format(rows="s", fmt="s.source_format")}
            )
            UPDATE sets SET exercise_id = t.exercise_id FROM target t
            WHERE sets.exercise_key = t.exercise_key AND sets.source_format = t.source_format
              AND sets.exercise_id <> t.exercise_id
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
