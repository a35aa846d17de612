"""The rules over every real export in ../shared/data/real, one athlete each, with breaks and
dormancy off so that every athlete's last sessions are judged, as of the day after each
athlete's last session: every progression flag keeps the safety properties (tests/rules/safety.py;
for a fixed program, its true numbers), and every flag is the one the plain-Python reading gives.

The files are found by glob: a file that does not load yet is left out, and covered once it does.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from datetime import timedelta

import polars as pl
import pytest

from flows import discovery, pipeline
from rules import evaluate
from schemas.config_files import ProgramsFile
from tests.cases import shipped_programs
from tests.conftest import REAL_DATA, Workspace, needs_real_data
from tests.rules import reference as ref
from tests.rules import safety
from tests.rules.test_reference import compare
from warehouse.db import writer
from warehouse.flags import rule_sets

pytestmark = [needs_real_data, pytest.mark.slow]


def always_judged() -> ProgramsFile:
    """The shipped programs with breaks and dormancy off."""
    data = shipped_programs().model_dump()
    for program in data["programs"].values():
        program |= {"break_days": 0, "dormant_days": 0}
    return ProgramsFile.model_validate(data)


def load_every_export(workspace: Workspace) -> pl.DataFrame:
    """Every real export as its own athlete; the sets the rules read."""
    for path in sorted(REAL_DATA.rglob("*")):
        if path.is_file() and path.name != "README.md":
            athlete = "u_" + re.sub(r"[^a-z0-9]+", "_", path.stem.lower())
            target = workspace.inbox / athlete / path.name
            target.parent.mkdir(parents=True)
            shutil.copy(path, target)
    config = workspace.config()
    found, _ = discovery.inbox_files(config)
    pipeline.execute(config, found, "ingest", None)
    with writer(workspace.db) as con:
        return con.execute(f"SELECT * FROM {rule_sets(con)}").pl()


def test_every_flag_over_the_real_exports_is_one_small_step(workspace: Workspace) -> None:
    programs = always_judged()
    sets = load_every_export(workspace)
    checked, broken = 0, []
    for (athlete,), own in sets.group_by(["athlete_id"]):
        as_of = own["performed_at"].max().date() + timedelta(days=1)
        rows = [ref.Row(**{f: r[f] for f in ref.Row.__dataclass_fields__}) for r in own.to_dicts()]
        flags = evaluate(own, programs, as_of)
        by_exercise: dict[str, list[ref.Row]] = defaultdict(list)
        for row in rows:
            by_exercise[row.exercise_id].append(row)
        for flag in flags.to_dicts():
            exercise = by_exercise[flag["exercise_id"]]
            program = programs.program_for(athlete, programs.program_id_for(flag["exercise_id"]))
            found = safety.violations(flag, exercise, program, exercise[0].assisted, as_of)
            broken += [(athlete, flag["exercise_id"], flag["reason"], f) for f in found]
            checked += flag["kind"] == "progression"
        compare(rows, programs, flags, as_of)
    assert sets["athlete_id"].n_unique() >= 10
    assert checked > 500, checked
    assert broken == [], broken[:10]
