"""What the rules read from the warehouse, and where their flags go."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from schemas.config_files import ASSISTED_WORDS
from warehouse.db import transaction

# The sets the rules read, with each machine's stack increment and whether the exercise is
# assisted (rules.SET_COLUMNS): the catalog says so, and a name it does not know says so itself
# ("Lat Pulldown (Assisted)"). Only the names the catalog does not know are matched: the regular
# expression costs a second of CPU per 10 M sets, the catalog's lookup a tenth of that.
RULE_SETS = f"""
CREATE OR REPLACE TEMP VIEW rule_sets AS
SELECT
    s.athlete_id, s.exercise_id, s.session_id, s.performed_at, s.set_type, s.reps, s.load_kg,
    s.load_unit, s.rpe, m.stack_increment_kg, s.file_id, s.source_line,
    CASE WHEN e.exercise_id IS NOT NULL THEN e.assisted
         ELSE regexp_matches(s.exercise_key, '{ASSISTED_WORDS}') END AS assisted
FROM sets s
LEFT JOIN (
    SELECT device_id, arg_max(stack_increment_kg, file_id) AS stack_increment_kg
    FROM machines GROUP BY device_id
) m USING (device_id)
LEFT JOIN (SELECT exercise_id, assisted FROM exercises) e USING (exercise_id)
"""

# Whether a flag's exercise is assisted (its loads are help), as the rules read it, for showing
# its prescriptions: in a query over flags `f` LEFT JOIN exercises `e` USING (exercise_id).
FLAG_ASSISTED = f"coalesce(e.assisted, regexp_matches(f.exercise_id, '{ASSISTED_WORDS}'))"


def rule_sets(con: duckdb.DuckDBPyConnection) -> str:
    """Create the view the rules read; return its name."""
    con.execute(RULE_SETS)
    return "rule_sets"


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
