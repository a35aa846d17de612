"""Program parameters as a frame, joined onto each athlete and exercise."""

from __future__ import annotations

import polars as pl

from schemas.config_files import Program, ProgramsFile
from schemas.set_row import LB_TO_KG

PARAMS = (
    "scheme",
    "scheme_sessions",
    "sets_min",
    "sets_max",
    "reps_min",
    "reps_max",
    "ladder",
    "rep_step",
    "step_kg",
    "step_lb",
    "step_lb_kg",
    "intro",
    "confirm",
    "rpe_cap",
    "per_week",
    "first_in_session",
    "load_cue",
    "stall_sessions",
    "break_days",
    "deload_factor",
    "dormant_days",
)


def _row(program: Program) -> dict[str, object]:
    # the lifter's own scheme has no sets or reps of its own
    sets, reps = program.sets, program.reps
    return {
        "scheme": program.scheme,
        "scheme_sessions": program.scheme_sessions,
        "sets_min": sets.min if sets else None,
        "sets_max": sets.max if sets else None,
        "reps_min": reps.min if reps else None,
        "reps_max": reps.max if reps else None,
        "ladder": program.sets_on_ladder,
        "rep_step": program.rep_step,
        "step_kg": float(program.load_step_kg),
        "step_lb": float(program.load_step_lb),
        "step_lb_kg": program.load_step_lb * LB_TO_KG,
        "intro": program.intro_sessions,
        "confirm": program.confirm_load,
        "rpe_cap": float(program.rpe_cap),
        "per_week": program.sessions_per_week,
        "first_in_session": program.first_in_session,
        "load_cue": program.load_cue,
        "stall_sessions": program.stall_sessions,
        "break_days": program.break_days,
        "deload_factor": float(program.deload_factor),
        "dormant_days": program.dormant_days,
    }


SCHEMA = {
    "scheme": pl.String,
    "scheme_sessions": pl.Int64,
    "sets_min": pl.Int64,
    "sets_max": pl.Int64,
    "reps_min": pl.Int64,
    "reps_max": pl.Int64,
    "ladder": pl.Boolean,
    "rep_step": pl.Int64,
    "step_kg": pl.Float64,
    "step_lb": pl.Float64,
    "step_lb_kg": pl.Float64,
    "intro": pl.Int64,
    "confirm": pl.Int64,
    "rpe_cap": pl.Float64,
    "per_week": pl.Int64,
    "first_in_session": pl.Boolean,
    "load_cue": pl.String,
    "stall_sessions": pl.Int64,
    "break_days": pl.Int64,
    "deload_factor": pl.Float64,
    "dormant_days": pl.Int64,
}


def attach(pairs: pl.DataFrame, programs: ProgramsFile) -> pl.DataFrame:
    """Add program_id and every program parameter (athlete overrides applied) to `pairs`."""
    assign = pl.DataFrame(
        {"exercise_id": list(programs.assign), "program_id": list(programs.assign.values())},
        schema={"exercise_id": pl.String, "program_id": pl.String},
    )
    base = pl.DataFrame(
        [{"program_id": pid, **_row(p)} for pid, p in programs.programs.items()],
        schema={"program_id": pl.String, **SCHEMA},
    )
    override = pl.DataFrame(
        [
            {"athlete_id": athlete, "program_id": pid, **_row(programs.program_for(athlete, pid))}
            for athlete, by_program in programs.overrides.items()
            for pid in by_program
        ],
        schema={"athlete_id": pl.String, "program_id": pl.String, **SCHEMA},
    ).rename({name: f"override_{name}" for name in PARAMS})
    with_program = pairs.join(assign, on="exercise_id", how="left").with_columns(
        pl.col("program_id").fill_null("default")
    )
    joined = with_program.join(base, on="program_id", how="left").join(
        override, on=["athlete_id", "program_id"], how="left"
    )
    has_override = pl.col("override_scheme").is_not_null()
    return joined.with_columns(
        pl.when(has_override).then(pl.col(f"override_{name}")).otherwise(pl.col(name)).alias(name)
        for name in PARAMS
    ).drop(f"override_{name}" for name in PARAMS)
