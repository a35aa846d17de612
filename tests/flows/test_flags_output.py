"""`repflow flags --format json|csv` is exact machine output: no wrapping at the console's width,
no rich markup, whatever the reasons hold."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import duckdb

from flows import discovery, pipeline
from flows.cli.reading import FLAG_QUERY
from tests.conftest import Workspace, csv_text, repflow

ATHLETES, EXERCISES = 50, 10  # 500 progression flags, one per athlete and exercise
AS_OF = date(2026, 11, 20)
# Longer than any console line, with what breaks text that passes through rich: markup, quotes,
# commas, a backslash, a newline, non-ASCII.
LONG = (
    ' [bold]Note[/bold] for {athlete}/{exercise}: "quoted", with commas, a back\\slash, '
    "a line break\nand ×, é, 日本; " + "then a long tail that goes on and on, " * 8
)


def _five_hundred_flags(workspace: Workspace) -> list[str]:
    """Load 500 athlete × exercise histories, evaluate the rules, give each flag a long reason
    in the analyst snapshot; the reasons in `repflow flags` order."""
    for a in range(ATHLETES):
        rows = [
            f"2026-11-16T07:{e:02d}:{s:02d},Exercise {e},10,60,kg,,working"
            for e in range(EXERCISES)
            for s in range(3)
        ]
        workspace.write(f"a{a:02d}/export.csv", csv_text(*rows))
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", AS_OF, skipped=skipped)
    con = duckdb.connect(str(workspace.snapshot))
    try:
        for athlete, exercise in con.execute(
            "SELECT athlete_id, exercise_id FROM flags"
        ).fetchall():
            con.execute(
                "UPDATE flags SET reason = reason || ? WHERE athlete_id = ? AND exercise_id = ?",
                [LONG.format(athlete=athlete, exercise=exercise), athlete, exercise],
            )
        reasons: list[str] = con.execute(FLAG_QUERY, [None, None]).pl()["reason"].to_list()
    finally:
        con.close()
    assert len(reasons) == ATHLETES * EXERCISES
    assert min(len(reason) for reason in reasons) > 400
    return reasons


def test_json_and_csv_flags_round_trip_every_long_reason(workspace: Workspace) -> None:
    reasons = _five_hundred_flags(workspace)
    narrow = {"COLUMNS": "40", "LINES": "10"}
    as_json = repflow(
        "flags", "--db", str(workspace.db), "--format", "json", cwd=workspace.root, env=narrow
    )
    assert as_json.returncode == 0, as_json.stderr
    flags = json.loads(as_json.stdout)
    assert [flag["reason"] for flag in flags] == reasons
    assert len({(flag["athlete_id"], flag["exercise_id"]) for flag in flags}) == 500

    as_csv = repflow(
        "flags", "--db", str(workspace.db), "--format", "csv", cwd=workspace.root, env=narrow
    )
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout, newline="")))
    assert [row["reason"] for row in rows] == reasons


def test_csv_for_excel_has_a_byte_order_mark_and_the_loads_in_each_athlete_s_unit(
    workspace: Workspace,
) -> None:
    workspace.write(
        "kai/export.csv",
        csv_text(*(f"2026-11-{d}T07:0{n}:00,Squat,5,135,lb,," for d in (16, 18) for n in range(3))),
    )
    workspace.write(
        "lea/export.csv",
        csv_text(
            *(f"2026-11-{d}T07:0{n}:00,Squat,5,62.5,kg,," for d in (16, 18) for n in range(3))
        ),
    )
    config = workspace.config()
    files, skipped = discovery.inbox_files(config)
    pipeline.execute(config, files, "run", AS_OF, skipped=skipped)
    excel = repflow(
        "flags", "--db", str(workspace.db), "--format", "csv", "--excel", cwd=workspace.root
    )
    assert excel.returncode == 0, excel.stderr
    assert excel.stdout.startswith("\ufeff")
    rows = {
        row["athlete_id"]: row
        for row in csv.DictReader(io.StringIO(excel.stdout.removeprefix("\ufeff"), newline=""))
        if row["kind"] == "progression"
    }
    assert (rows["kai"]["load_unit"], rows["kai"]["current_load"]) == ("lb", "135.0")
    assert (rows["lea"]["load_unit"], rows["lea"]["current_load"]) == ("kg", "62.5")
    for row in rows.values():
        assert row["exercise"] == "Squat"  # the catalog's name beside the id
        next_load = float(row["next_load"])
        assert f"@ {next_load:g} {row['load_unit']}" in row["reason"]
        per_kg = 0.45359237 if row["load_unit"] == "lb" else 1
        assert next_load == round(float(row["next_load_kg"]) / per_kg, 2)
    plain = repflow("flags", "--db", str(workspace.db), "--format", "csv", cwd=workspace.root)
    assert plain.stdout == excel.stdout.removeprefix("\ufeff")
    as_json = repflow("flags", "--db", str(workspace.db), "--format", "json", cwd=workspace.root)
    progression = [f for f in json.loads(as_json.stdout) if f["kind"] == "progression"]
    assert {f["athlete_id"]: f["next_load"] for f in progression} == {
        a: float(row["next_load"]) for a, row in rows.items()
    }
    wrong = repflow("flags", "--db", str(workspace.db), "--excel", cwd=workspace.root)
    assert wrong.returncode == 2 and "--excel" in wrong.stderr
