"""v_unmapped_exercises lists the names the loader could not map: sets whose exercise the
catalog does not have."""

from __future__ import annotations

from flows import runs
from tests.conftest import Workspace, csv_text
from warehouse.db import writer

ROW = (
    "INSERT INTO sets VALUES (?, 's1', TIMESTAMPTZ '2026-11-16 07:00:00+00', ?, ?, ?, 1, "
    "'working', 5, 60, 'kg', NULL, NULL, NULL, NULL, ?, 'f1', 2, 'r1', NULL, NULL, NULL, NULL)"
)


def test_names_the_catalog_maps_are_no_candidates(workspace: Workspace) -> None:
    workspace.ingest(
        "a1/export.csv",
        csv_text(
            "2026-11-16T07:00:00,Back Squat,5,60,kg,,",  # an alias
            "2026-11-16T07:01:00,Bench Press (Dumbbell),5,20,kg,,",  # the matcher
            "2026-11-16T07:02:00,Carry: Farmers Walk Uphill,5,20,kg,,",  # nothing
            "2026-11-16T07:03:00,Zercher Tire Drag,5,20,kg,,",  # nothing
        ),
    )
    assert workspace.query("SELECT exercise_key, sets FROM v_unmapped_exercises ORDER BY 1") == [
        ("carry: farmers walk uphill", 1),
        ("zercher tire drag", 1),
    ]


def test_unmapped_names_per_athlete_add_up_to_the_catalog_candidates(workspace: Workspace) -> None:
    config = workspace.config()
    runs.prepare(workspace.db, config, 0)
    rows = [
        ("a1", "Carry: Farmers Walk", "carry: farmers walk", "carry_farmers_walk", "garmin_fit"),
        ("a1", "Hyperextension: Swiss Ball", "hyperextension: swiss ball", "back_extension", "x"),
        ("a2", "carry:  Farmers Walk", "carry: farmers walk", "carry_farmers_walk", "x"),
        ("a2", "carry:  Farmers Walk", "carry: farmers walk", "carry_farmers_walk", "x"),
    ]
    with writer(workspace.db) as con:
        for row in rows:
            con.execute(ROW, list(row))
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
