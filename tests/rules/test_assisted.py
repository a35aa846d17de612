"""Assisted exercises: the logged load is help, and everything about load is mirrored (DESIGN.md,
"Assisted exercises"); the catalog says which exercises they are, in any language we read."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from flows import cli, discovery, pipeline
from flows.config import load
from report import write_report
from report.data import read
from rules import evaluate, evaluate_relation
from schemas.config_files import ConfigError, ExercisesFile, exercise_key
from tests.cases import LB, S, assigned, history, last_day, sets_of, shipped_programs
from tests.conftest import Workspace, csv_text
from tests.rules.test_engine import progression, rx
from tests.rules.test_own import PROGRAMS
from tests.schemas.test_config_files import write_config
from warehouse.db import writer
from warehouse.flags import rule_sets

FIXED = assigned(shipped_programs(), "double_progression", "assisted_dip")


def helped(sessions: list[list[S]], programs: Any = PROGRAMS, **kwargs: Any) -> dict:
    exercise = "assisted_dip" if programs is FIXED else "assisted_pull_up"
    frame = history(sessions, exercise=exercise, assisted=True, **kwargs)
    return progression(frame, programs=programs)


def test_the_top_set_is_the_one_with_the_least_help() -> None:
    found = helped([[S(8, 30), S(8, 25), S(6, 25)]])
    assert (found["current_sets"], found["current_reps"], found["current_load_kg"]) == (2, 6, 25)
    assert found["reason"].startswith("Not enough sessions yet")
    assert "2×6 with 25 kg assistance" in found["reason"]


def test_progress_is_less_help() -> None:
    found = helped([sets_of(3, 8, 30)] * 2)
    assert rx(found) == ("raise_load", 3, 8, 27.5)
    assert found["reason"] == (
        "3×8 in each of the last 2 sessions (Sep 1, Sep 4): take 2.5 kg less assistance, 3×8 "
        "with 27.5 kg assistance."
    )


def test_from_one_step_of_help_the_next_is_the_unassisted_exercise() -> None:
    found = helped([sets_of(3, 8, 2)] * 2)
    assert rx(found) == ("raise_load", 3, 8, 0.0)
    assert found["next_load_kg"] == 0.0 and str(found["next_load_kg"]) == "0.0"
    assert found["reason"].endswith("go without assistance, 3×8 without assistance.")


def test_help_in_lb_comes_off_in_lb_steps() -> None:
    found = helped([sets_of(3, 8, 50 * LB)] * 2, unit="lb")
    assert found["next_load_kg"] == pytest.approx(45 * LB)
    assert "take 5 lb less assistance, 3×8 with 45 lb assistance" in found["reason"]


def test_a_break_resumes_with_more_help_rounded_up() -> None:
    frame = history([sets_of(3, 8, 30)] * 2, exercise="assisted_pull_up", assisted=True)
    found = progression(frame, as_of=last_day(2) + timedelta(days=30), programs=PROGRAMS)
    assert rx(found) == ("resume", 3, 8, 35.0)  # 30 + 10% = 33, up to 35 in 2.5 kg steps
    assert found["reason"].endswith("come back at 3×8 with 35 kg assistance.")


def test_a_stall_deloads_to_more_help() -> None:
    sessions = [sets_of(3, 10, 20), *[sets_of(3, 8, 20)] * 4]
    found = helped(sessions)
    assert rx(found) == ("deload", 3, 8, 22.5)  # 22 rounded up
    assert "take 10% more assistance, 3×8 with 22.5 kg assistance" in found["reason"]


def test_a_fixed_program_mirrors_its_table() -> None:
    stall = [sets_of(3, 10, 20), *[sets_of(3, 9, 20)] * 3]
    assert rx(helped(stall, FIXED)) == ("deload", 3, 8, 22.5)
    # More help after the deload is a step back, not a miss.
    assert rx(helped([*stall, sets_of(3, 8, 22.5)], FIXED)) == ("raise_reps", 3, 9, 22.5)
    assert rx(helped([sets_of(3, 12, 20)] * 2, FIXED)) == ("raise_load", 3, 8, 17.5)


def records(sessions: list[list[S]]) -> list[dict]:
    frame = history(sessions, exercise="assisted_pull_up", assisted=True, start=date(2026, 10, 1))
    found = evaluate(frame, PROGRAMS, frame["performed_at"].max().date() + timedelta(days=1))
    return found.filter(pl.col("action") == "record").to_dicts()


def test_a_record_is_less_help_at_the_same_or_more_reps() -> None:
    (found,) = records([sets_of(3, 8, 30), sets_of(3, 8, 25)])
    assert (found["current_sets"], found["current_reps"], found["current_load_kg"]) == (3, 8, 25)
    assert found["reason"] == (
        "New best: 3×8 with 25 kg assistance, the least assistance yet; the least before was "
        "30 kg on Oct 1."
    )
    assert records([sets_of(3, 8, 30), sets_of(3, 6, 25)]) == []  # fewer reps
    assert records([sets_of(3, 8, 25), sets_of(3, 12, 30)]) == []  # more help: no e1RM either


def test_catalog_names_in_the_apps_map_to_the_assisted_entries() -> None:
    catalog = load({}).catalog
    aliases = catalog.alias_map()
    for name in ("Pull Up (Assisted)", "Chin Up (Assisted)", "Assisted Pull Up"):
        assert aliases[exercise_key(name)] == "assisted_pull_up", name
    for name in ("Dip (Assisted)", "Chest Dip (Assisted)", "Machine Assisted Dip"):
        assert aliases[exercise_key(name)] == "assisted_dip", name
    assert catalog.entries["assisted_pull_up"].assisted
    assert catalog.entries["band_assisted_pull_up"].assisted
    assert not catalog.entries["pull_up"].assisted


@pytest.mark.parametrize(
    "name",
    [
        "Pull Up (Assisted)",
        "Traction assistée",
        "Dominadas asistidas",
        "Trazioni assistite",
        "Klimmzug (unterstützt)",
        "Gravitron Pull Up",
        "Подтягивания в гравитроне",
    ],
)
def test_an_assisted_name_never_goes_on_an_unassisted_entry(tmp_path: Path, name: str) -> None:
    """Whichever layer gives the name: the config folder's exercises.toml over the catalog."""
    folder = write_config(
        tmp_path, "exercises.toml", f"[exercises.pull_up]\naliases = [{name!r}]\n"
    )
    with pytest.raises(ConfigError, match=r"exercises\.pull_up: .* names an assisted exercise"):
        load({"config": str(folder)}).catalog  # noqa: B018
    with pytest.raises(ValidationError, match="names an assisted exercise"):
        ExercisesFile.model_validate(
            {"exercises": {"pull_up": {"aliases": [name], "assisted": False}}}
        )
    folder = write_config(
        tmp_path, "exercises.toml", f"[exercises.assisted_pull_up]\naliases = [{name!r}]\n"
    )
    assert load({"config": str(folder)}).catalog.alias_map()[exercise_key(name)] == (
        "assisted_pull_up"
    )


ROWS = [
    "2026-11-16T07:00:00Z,Pull Up (Assisted),8,30,kg,,working",
    "2026-11-16T07:01:00Z,Pull Up (Assisted),8,25,kg,,working",
    "2026-11-16T07:05:00Z,Lat Pulldown (Assisted),10,20,kg,,working",
    "2026-11-16T07:10:00Z,Pull Up,5,10,kg,,working",
]


def test_the_warehouse_tells_the_rules_which_exercises_are_assisted(workspace: Workspace) -> None:
    assert workspace.ingest("a1/log.csv", csv_text(*ROWS)).status == "loaded"
    assert workspace.query(
        "SELECT exercise_id, assisted FROM exercises "
        "WHERE exercise_id IN ('assisted_pull_up', 'pull_up') ORDER BY 1"
    ) == [("assisted_pull_up", True), ("pull_up", False)]
    with writer(workspace.db) as con:
        seen = con.execute(
            f"SELECT DISTINCT exercise_id, assisted FROM {rule_sets(con)} ORDER BY 1"
        ).fetchall()
        flags = evaluate_relation(con, "rule_sets", PROGRAMS, date(2026, 11, 17))
        with pytest.raises(Exception, match="NOT NULL"):
            con.execute(
                "INSERT INTO exercises (exercise_id, name, program_id, aliases, assisted) "
                "VALUES ('x', 'X', 'default', [], NULL)"
            )
    # a name the catalog does not know says itself that it is assisted
    assert seen == [
        ("assisted_pull_up", True),
        ("lat_pulldown_assisted", True),
        ("pull_up", False),
    ]
    current = flags.filter(pl.col("kind") == "progression").select(
        "exercise_id", "current_sets", "current_load_kg"
    )
    assert sorted(current.rows()) == [
        ("assisted_pull_up", 1, 25.0),
        ("lat_pulldown_assisted", 1, 20.0),
        ("pull_up", 1, 10.0),
    ]


def test_flags_and_the_report_show_help_as_help(workspace: Workspace) -> None:
    workspace.write("a1/log.csv", csv_text(*ROWS))
    config = workspace.config()
    found, _ = discovery.inbox_files(config)
    pipeline.execute(config, found, "run", date(2026, 11, 17))
    printed = CliRunner().invoke(cli.app, ["flags", "--db", str(workspace.db)])
    assert printed.exit_code == 0, printed.output
    lines = [line for line in printed.output.splitlines() if "assisted_pull" in line]
    assert lines and "1×8 with 25 kg" in lines[0], printed.output
    today = date(2026, 11, 17)
    data = read(workspace.snapshot, config.programs, today)
    rows = data.flags.filter(pl.col("exercise_id") == "pull_up")
    assert rows["assisted"].to_list() == [False]
    assisted = data.exercises.filter(pl.col("exercise_id") == "assisted_pull_up")
    assert assisted["assisted"].to_list() == [True]  # its chart mirrors the load too
    out = workspace.root / "out"
    html = write_report(workspace.snapshot, out, config.programs, today).path.read_text()
    assert "1×8 with 25 kg assistance" in html and "1×5 @ 10 kg" in html
