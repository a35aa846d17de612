"""What the rules read from the warehouse, and where their flags go."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from warehouse.db import transaction

RULE_INPUT = """
SELECT
    s.athlete_id, s.exercise_id, s.session_id, s.performed_at, s.set_type, s.reps, s.load_kg,
    s.load_unit, s.rpe, m.stack_increment_kg,
    row_number() OVER (
        PARTITION BY s.athlete_id, s.session_id
        ORDER BY s.performed_at, s.file_id, s.source_line
    ) AS set_order
FROM sets s
LEFT JOIN (
    SELECT device_id, arg_max(stack_increment_kg, file_id) AS stack_increment_kg
    FROM machines GROUP BY device_id
) m USING (device_id)
"""


def rule_input(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    frame = con.execute(RULE_INPUT).pl()
    return frame.with_columns(pl.col("performed_at").dt.convert_time_zone("UTC"))


def store_flags(
    con: duckdb.DuckDBPyConnection, flags: pl.DataFrame, run_id: str, as_of: date
) -> None:
    with transaction(con):
        con.register("flags_frame", flags.to_arrow())
        con.execute(
            """
            INSERT INTO flags
            SELECT ?, ?, now(), athlete_id, exercise_id, kind, action, current_sets,
                   current_reps, current_load_kg, next_sets, next_reps, next_load_kg,
                   load_unit, reason, evidence, program_id
            FROM flags_frame
            """,
            [run_id, as_of],
        )
        con.unregister("flags_frame")
