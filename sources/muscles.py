"""The muscle groups a file gives its exercises, as it writes them, for the exercise catalog.

GymBook names primary and secondary groups per row (`Trapezio, Muscoli dorsali`), Liftosaur its
target and synergist muscles (`chest,triceps`), FitNotes a category per exercise (`Chest`).
They are kept per exercise, in the file's own words and language: matching them to the
catalog's muscles is the catalog's work.
"""

from __future__ import annotations

import polars as pl

from sources.base import MUSCLE_SCHEMA

PRIMARY, SECONDARY = "primary", "secondary"
CATEGORY = "category"  # an app's body-part category for the exercise, coarser than a muscle


def given(rows: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """Per exercise of `rows`, each muscle group its `columns` give (a column name → its role),
    once, in file order. A cell may list several, separated by commas."""
    sound = rows.filter(pl.col("structure_error").is_null() & pl.col("exercise").is_not_null())
    parts = [
        sound.select(
            "exercise",
            role=pl.lit(role),
            muscle_group=pl.col(column).str.split(","),
        )
        for column, role in columns.items()
    ]
    listed = (
        pl.concat(parts)
        .explode("muscle_group", empty_as_null=True)
        .with_columns(pl.col("muscle_group").str.strip_chars())
    )
    kept = listed.filter(pl.col("muscle_group").is_not_null() & (pl.col("muscle_group") != ""))
    return kept.unique(maintain_order=True).cast(MUSCLE_SCHEMA)  # type: ignore[arg-type]
