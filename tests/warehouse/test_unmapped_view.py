"""v_unmapped_exercises lists the names the loader could not map, as the loader maps them."""

from __future__ import annotations

from flows import runs
from tests.conftest import Workspace
from warehouse.db import writer

ROW = (
    "INSERT INTO sets VALUES (?, 's1', TIMESTAMPTZ '2026-11-16 07:00:00+00', ?, ?, 'x', 1, "
    "'working', 5, 60, 'kg', NULL, NULL, NULL, NULL, ?, 'f1', 2, 'r1', NULL, NULL, NULL, NULL)"
)


def test_a_garmin_name_mapped_by_its_category_is_not_unmapped(workspace: Workspace) -> None:
    config = workspace.config()
    runs.prepare(workspace.db, config, 0)
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


def test_unmapped_names_per_athlete_add_up_to_the_catalog_candidates(workspace: Workspace) -> None:
    config = workspace.config()
    runs.prepare(workspace.db, config, 0)
    rows = [
        ("a1", "Carry: Farmers Walk", "carry: farmers walk", "garmin_fit"),
        ("a1", "Hyperextension: Swiss Ball", "hyperextension: swiss ball", "garmin_fit"),  # mapped
        ("a2", "carry:  Farmers Walk", "carry: farmers walk", "canonical_csv"),
        ("a2", "carry:  Farmers Walk", "carry: farmers walk", "canonical_csv"),
    ]
    with writer(workspace.db) as con:
        for athlete, raw, key, fmt in rows:
            con.execute(ROW, [athlete, raw, key, fmt])
    per_athlete = workspace.query(
        "SELECT athlete_id, exercise_key, example_name, sets FROM v_unmapped_by_athlete ORDER BY 1"
    )
    assert per_athlete == [
        ("a1", "carry: farmers walk", "Carry: Farmers Walk", 1),
        ("a2", "carry: farmers walk", "carry:  Farmers Walk", 2),
    ]
    assert workspace.query("SELECT exercise_key, athletes, sets FROM v_unmapped_exercises") == [
        ("carry: farmers walk", 2, 3)
    ]
