"""The matcher's signature: the equipment a name states, apart from the words of the movement."""

from __future__ import annotations

import pytest

from schemas.exercise_match import EQUIPMENT, garmin_parts, signature, with_equipment


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["Bench Press (Barbell)", "Barbell Bench Press", "BARBELL  bench presses"],
            "barbell|bench press",
        ),
        (
            ["Bench Press (Dumbbell)", "Dumbbell Bench Press", "DB Bench Press"],
            "dumbbell|bench press",
        ),
        (["Pull Up", "Pull-Up", "Pullups", "PULL-UPS"], "|pullup"),
        (
            ["Lat Pulldown (Cable)", "Cable Lat Pull-Down", "Lat Pull Downs, Cable"],
            "cable|lat pulldown",
        ),
        (["Smith Machine Squat", "Squat (Smith Machine)", "Squat (Smith)"], "smith|squat"),
        (["Leg Press (Machine)", "Machine Leg Press", "Leverage Leg Press"], "machine|leg press"),
        (["EZ Bar Curl", "Curl (EZ-Bar)", "E-Z Curl Bar Curls"], "e-z curl bar|curl"),
        (["Farmer's Walk", "Farmers Walk", "Farmer’s walk"], "|farmer walk"),
        (["T-Bar Row", "T Bar Row", "Row (T-Bar)"], "|row tbar"),
        (["Squat con bilanciere", "Squat with Barbell"], "barbell|squat"),
        (["Élévations latérales", "elevations laterales"], "|elevation laterale"),
        (["Crunches", "Crunch"], "|crunch"),
    ],
)
def test_spellings_of_one_exercise_share_a_signature(names: list[str], expected: str) -> None:
    assert {signature(name) for name in names} == {expected}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Pull Up (Assisted)", "Pull Up"),  # help, not resistance: never the same exercise
        ("Trazioni assistite", "Trazioni"),
        ("Bench Press (Dumbbell)", "Bench Press (Barbell)"),
        ("Bench Press", "Bench Press (Barbell)"),  # a name that states no equipment
        ("Incline Bench Press", "Bench Press"),
        ("Smith Machine Squat", "Squat (Machine)"),
    ],
)
def test_different_exercises_have_different_signatures(one: str, other: str) -> None:
    assert signature(one) != signature(other)


def test_every_piece_of_equipment_is_told_apart_from_the_movement() -> None:
    for word, _ in EQUIPMENT:
        stated = signature(f"Curl ({word})")
        assert stated == f"{word}|curl", word


def test_a_name_that_states_no_equipment_takes_the_exercise_s_own() -> None:
    assert with_equipment(signature("Leg Press"), "machine") == "machine|leg press"
    assert with_equipment(signature("Leg Press (Machine)"), "machine") is None
    assert with_equipment(signature("Leg Press"), None) is None


def test_garmin_names_split_into_category_and_subtype() -> None:
    assert garmin_parts("pull up: band assisted pull up") == ("pull up", "band assisted pull up")
    assert garmin_parts("hyperextension") == ("hyperextension", None)
