"""v_unmapped_exercises lists the names the loader could not map, as the loader maps them."""

from __future__ import annotations

from flows import pipeline
from tests.conftest import Workspace
from warehouse.db import writer

ROW = (
    "INSERT INTO sets VALUES (?, 's1', TIMESTAMPTZ '2026-11-16 07:00:00+00', ?, ?, 'x', 1, "
    "'working', 5, 60, 'kg', NULL, NULL, NULL, NULL, ?, 'f1', 2, 'r1', NULL, NULL)"
)


def test_a_garmin_name_mapped_by_its_category_is_not_unmapped(workspace: Workspace) -> None:
    config = workspace.config()
    pipeline.prepare(workspace.db, config, 0)
    rows = [
        ("Hyperextension: Swiss Ball", "hyperextension: swiss ball", "garmin_fit"),  # category
        ("Carry: Farmers Walk", "carry: farmers walk", "garmin_fit"),  # category unknown
        ("Hyperextension: Swiss Ball", "hyperextension: swiss ball", "canonical_csv"),  # no rule
        ("Back Squat", "back squat", "canonical_csv"),  # an alias
    ]
    with writer(workspace.db) as con:
        for raw, key, fmt in rows:
            con.execute(ROW, ["a1", raw, key, fmt])
    unmapped = workspace.query("SELECT exercise_key, sets FROM v_unmapped_exercises ORDER BY 1")
    assert unmapped == [("carry: farmers walk", 1), ("hyperextension: swiss ball", 1)]
