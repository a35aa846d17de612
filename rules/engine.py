"""The progression rules, evaluated for every athlete and exercise at once: sessions from
SQL (sessions.py), the fixed table (fixed.py) or the lifter's own scheme (own.py) per program,
the advice, and the flags in FLAG_COLUMNS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl
from polars._typing import PolarsDataType

from rules import fixed, own, reasons
from rules.history import TOLERANCE, col, name
from rules.programs import attach
from rules.sessions import ADVICE_WINDOW_DAYS, SET_COLUMNS, FirstInSession, summarise
from schemas.config_files import Program, ProgramsFile

FLAG_TYPES: dict[str, PolarsDataType] = {
    "athlete_id": pl.String,
    "exercise_id": pl.String,
    "kind": pl.String,
    "action": pl.String,
    "current_sets": pl.Int64,
    "current_reps": pl.Int64,
    "current_load_kg": pl.Float64,
    "next_sets": pl.Int64,
    "next_reps": pl.Int64,
    "next_load_kg": pl.Float64,
    "load_unit": pl.String,
    "reason": pl.String,
    "evidence": pl.List(pl.Date),
    "program_id": pl.String,
}
FLAG_SCHEMA = pl.Schema(FLAG_TYPES)
FLAG_COLUMNS = tuple(FLAG_TYPES)
PAIR = ("athlete_id", "exercise_id")
# A record is news: the last session set it, at most this many days before the as-of date.
RECORD_NEWS_DAYS = 7


@dataclass(frozen=True)
class LookBack:
    """How many sessions before the last the rules read (`depth`), the longest
    `stall_sessions` and the longest own `scheme_sessions` (`window`) of any program."""

    depth: int
    stall: int
    window: int


def _stored(kg: pl.Expr) -> pl.Expr:
    """A load as flags store it: an assisted exercise's help, unmirrored (never -0.0)."""
    return pl.when(pl.col("assisted")).then(-kg).otherwise(kg) + 0.0


def _evidence(depth: int) -> pl.Expr:
    """Dates of the last `rests_on` sessions, the ones a flag rests on, oldest first."""
    dates = pl.concat_list(col("session_date", k) for k in range(depth, -1, -1))
    return dates.list.drop_nulls().list.tail(pl.col("rests_on"))


def _decided(scheme: str, pairs: pl.DataFrame, look: LookBack, as_of: date) -> pl.DataFrame:
    """The progression flags of pairs whose programs follow `scheme`, with their reasons."""
    if scheme == "fixed":
        decided = fixed.decide(pairs, look.depth, look.stall)
        reason = reasons.fixed(as_of, look.stall, look.depth)
    else:
        decided = own.decide(pairs, look.depth, look.stall, look.window)
        reason = reasons.own(as_of, look.depth)
    return decided.with_columns(evidence=_evidence(look.depth)).with_columns(reason=reason)


def _progression(pairs: pl.DataFrame, look: LookBack, as_of: date) -> pl.DataFrame:
    """One progression flag per pair, each by its program's scheme."""
    schemes = pairs["scheme"].unique().to_list()
    # most warehouses follow one scheme: splitting a wide frame costs as much as a decision
    by_scheme = (
        {(schemes[0],): pairs} if len(schemes) == 1 else pairs.partition_by("scheme", as_dict=True)
    )
    decided = [_decided(str(key[0]), frame, look, as_of) for key, frame in by_scheme.items()]
    return pl.concat(
        [
            frame.select(
                *PAIR,
                kind=pl.lit("progression"),
                action="action",
                current_sets="sets",
                current_reps="reps",
                current_load_kg=_stored(pl.col("load")),
                next_sets="next_sets",
                next_reps="next_reps",
                next_load_kg=_stored(pl.col("next_load_kg")),
                load_unit="load_unit",
                reason="reason",
                evidence="evidence",
                program_id="program_id",
            )
            for frame in decided
        ]
    )


def _record() -> pl.Expr:
    """The last session, at most RECORD_NEWS_DAYS before the as-of date, beat every earlier
    one: a higher estimated 1RM (with load), or less help with at least as many reps."""
    beaten = pl.col("best_before_kg") + TOLERANCE
    better = (
        pl.when(pl.col("assisted"))
        .then((pl.col("load") > beaten) & (pl.col("reps") >= pl.col("best_before_reps")))
        .otherwise((pl.col("load") > 0) & (pl.col("e1rm") > beaten))
    )
    return (pl.col("gap_days") <= RECORD_NEWS_DAYS) & better.fill_null(False)


def _advice(pairs: pl.DataFrame, as_of: date) -> pl.DataFrame:
    often = pairs.filter(
        pl.col("per_week").is_not_null()
        & (pl.col("first_date") <= pl.lit(as_of) - pl.duration(days=ADVICE_WINDOW_DAYS))
        & (pl.col("recent_dates").list.len() < pl.col("per_week") * 4)
    ).with_columns(
        action=pl.lit("train_more_often"),
        reason=reasons.train_more_often(as_of, ADVICE_WINDOW_DAYS),
        evidence=pl.col("recent_dates"),
    )
    first = pairs.filter(
        pl.col("first_in_session") & pl.col("came_after_exercise").is_not_null()
    ).with_columns(
        action=pl.lit("do_first"),
        reason=reasons.do_first(as_of),
        evidence=pl.concat_list(pl.col("session_date")),
    )
    e1rm = pl.col("load") * (1 + pl.col("reps") / 30)
    record = (
        pairs.with_columns(e1rm=e1rm)
        .filter(_record())
        .with_columns(
            action=pl.lit("record"),
            reason=reasons.record(as_of),
            evidence=pl.concat_list("best_before_date", "session_date").list.unique(
                maintain_order=True
            ),
        )
    )
    return pl.concat(
        [
            frame.select(
                *PAIR,
                kind=pl.lit("advice"),
                action="action",
                # a record names the session that set it; the others are about a pattern
                current_sets=pl.when(pl.col("action") == "record").then(pl.col("sets")),
                current_reps=pl.when(pl.col("action") == "record").then(pl.col("reps")),
                current_load_kg=pl.when(pl.col("action") == "record").then(_stored(pl.col("load"))),
                load_unit="load_unit",
                reason="reason",
                evidence="evidence",
                program_id="program_id",
            )
            for frame in (often, first, record)
        ]
    )


def _first_in_session(programs: ProgramsFile) -> FirstInSession:
    """Which exercises' programs, for any athlete, ask to come first in a session."""
    first = {pid for pid, p in programs.programs.items() if p.first_in_session}
    first |= {
        pid for by in programs.overrides.values() for pid, o in by.items() if o.first_in_session
    }
    return FirstInSession(
        exercises=[e for e, pid in programs.assign.items() if pid in first],
        assigned=list(programs.assign),
        default="default" in first,
    )


def _in_use(programs: ProgramsFile) -> list[Program]:
    """Every program, and every athlete's version of one."""
    merged = [
        programs.program_for(athlete, pid)
        for athlete, by_program in programs.overrides.items()
        for pid in by_program
    ]
    return [*programs.programs.values(), *merged]


def _look_back(programs: ProgramsFile) -> LookBack:
    """How far back the rules read. The fixed table judges each of the last `stall_sessions`
    sessions with rows 3 and 7 as of the session before it; the lifter's own scheme learns from
    `scheme_sessions`, each judged against the one before it (a bad day), and looks at the last
    `stall_sessions` + 1 and `confirm_load` sessions."""
    used = _in_use(programs)
    fixed_depth = [
        p.stall_sessions + max(1, p.confirm_load - 1) for p in used if p.scheme == "fixed"
    ]
    own_depth = [
        max(p.scheme_sessions, p.stall_sessions, p.confirm_load - 1)
        for p in used
        if p.scheme == "own"
    ]
    return LookBack(
        depth=max(fixed_depth + own_depth),
        stall=max(p.stall_sessions for p in used),
        window=max([p.scheme_sessions for p in used if p.scheme == "own"], default=0),
    )


def evaluate(
    sets: pl.DataFrame,
    programs: ProgramsFile,
    as_of: date,
    timezones: dict[str, str] | None = None,
    default_timezone: str = "UTC",
) -> pl.DataFrame:
    """Flags for the sets in a frame (SET_COLUMNS), evaluated in an in-memory DuckDB."""
    con = duckdb.connect()
    try:
        con.register("rule_sets", sets.select(SET_COLUMNS))
        return evaluate_relation(con, "rule_sets", programs, as_of, timezones, default_timezone)
    finally:
        con.close()


def evaluate_relation(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    programs: ProgramsFile,
    as_of: date,
    timezones: dict[str, str] | None = None,
    default_timezone: str = "UTC",
) -> pl.DataFrame:
    """Flags for every athlete and exercise with a working set with reps on or before `as_of`,
    except those whose last session is more than `dormant_days` before it.

    `relation` names a table or view of `con` with SET_COLUMNS; the result has FLAG_COLUMNS,
    progression flags first.
    """
    look = _look_back(programs)
    pairs = summarise(
        con,
        relation,
        as_of,
        look.depth,
        timezones or {},
        default_timezone,
        _first_in_session(programs),
    )
    gap = (pl.lit(as_of) - pl.col("session_date")).dt.total_days()
    live = (
        attach(pairs, programs)
        .with_columns(gap_days=gap)
        .filter((pl.col("dormant_days") == 0) | (pl.col("gap_days") <= pl.col("dormant_days")))
    )
    if live.height == 0:
        return pl.DataFrame(schema=FLAG_SCHEMA)
    with_params = live.with_columns(
        (col("max_rpe", k) < pl.col("rpe_cap")).fill_null(True).alias(name("clean", k))
        for k in range(look.depth + 1)
    )
    flags = pl.concat(
        [_progression(with_params, look, as_of), _advice(with_params, as_of)],
        how="diagonal_relaxed",
    )
    return flags.select(pl.col(name).cast(dtype) for name, dtype in FLAG_SCHEMA.items()).sort(
        ["athlete_id", "exercise_id", "kind", "action"], descending=[False, False, True, False]
    )
