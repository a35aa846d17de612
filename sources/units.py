"""The unit of a file's loads, and the unit its lifter loads the bar in (DESIGN.md, "Sources").

A file that names no unit (Strong's classic layouts, in every language) holds loads in whatever
unit the app was set to. In this order: the athlete's `file_unit`; the unit the file states;
clear evidence in its loads; the unit this athlete's earlier files of the format were inferred
in; the athlete's `unit` setting. Every app reader decides through `resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from schemas.set_row import LB_TO_KG, UNIT_CHOICES
from sources.base import LIFTER_UNIT, Decisions, ReadHints

# Where a file's unit came from (stored in ingested_files.unit_source).
FROM_FILE_UNIT, FROM_FILE, FROM_LOADS = "file_unit", "file", "loads"
FROM_EARLIER_FILES, FROM_SETTING = "earlier_files", "setting"
# A later file of the athlete's in the format follows a unit that was inferred, not one stated
# or set (a setting applies anyway, and an operator may change it).
STICKY = (FROM_LOADS, FROM_EARLIER_FILES)

# The evidence's thresholds, measured on the real Strong files (DESIGN.md). Conversion residue
# decides alone with at least this many values, and this many times more than of the other kind.
MIN_RESIDUE, RESIDUE_RATIO = 3, 10
# One to four 45 lb plates a side: the pound barbell's signature. At least 5% of loaded sets
# sit on them in a pound file, and at least three of the four values.
PLATES_LB = (135.0, 225.0, 315.0, 405.0)
MIN_PLATE_SHARE, MIN_PLATE_VALUES = 0.05, 3
# kg lifters step by 2.5 kg: more than this share on the 2.5 grid but not the 5 grid vetoes it.
MAX_KG_GRID_SHARE = 0.10
# Float dust (`149.99999999999997`) is the value it was meant to be.
_DUST = 1e-6


@dataclass(frozen=True)
class Evidence:
    """What a file's non-zero loads say of their unit."""

    loads: int = 0
    kg_residue: int = 0  # round pounds written in kg (6.80388555 = 15 lb): the file is in kg
    lb_residue: int = 0  # round kg written in lb (44.09245243697551 = 20 kg): the file is in lb
    plates: int = 0  # loads at 135, 225, 315 or 405
    plate_values: int = 0  # how many of those four values occur
    kg_grid: int = 0  # loads on the 2.5 grid but not on the 5 grid (22.5, 62.5, 102.5)

    @classmethod
    def of(cls, loads: pl.Series) -> Evidence:
        value = pl.col("load")
        counts = (
            pl.DataFrame({"load": loads.cast(pl.Float64)})
            .filter(value.is_finite() & (value > 0))
            .select(
                loads=pl.len(),
                kg_residue=(_quarter(value / LB_TO_KG, relative=True) & ~_quarter(value)).sum(),
                lb_residue=(_quarter(value * LB_TO_KG, relative=True) & ~_quarter(value)).sum(),
                plates=_plate(value).sum(),
                plate_values=value.filter(_plate(value)).round(0).n_unique(),
                kg_grid=(_step(value, 2.5) & ~_step(value, 5.0)).sum(),
            )
        )
        return cls(**{name: int(counts[name][0]) for name in counts.columns})

    def share(self, count: int) -> float:
        return count / self.loads if self.loads else 0.0

    @property
    def residue_unit(self) -> str | None:
        if self.lb_residue >= MIN_RESIDUE and self.lb_residue >= RESIDUE_RATIO * self.kg_residue:
            return "lb"
        if self.kg_residue >= MIN_RESIDUE and self.kg_residue >= RESIDUE_RATIO * self.lb_residue:
            return "kg"
        return None

    @property
    def signature(self) -> bool:
        plates = self.share(self.plates) >= MIN_PLATE_SHARE
        return plates and self.plate_values >= MIN_PLATE_VALUES

    @property
    def veto(self) -> bool:
        return self.share(self.kg_grid) > MAX_KG_GRID_SHARE

    @property
    def unit(self) -> str | None:
        """lb only when the residue says so, or the plate signature holds with no kg veto; kg
        only when the residue says so; else None (no clear evidence)."""
        if self.residue_unit is not None:
            return self.residue_unit
        return "lb" if self.signature and not self.veto else None

    @property
    def sentence(self) -> str:
        if self.loads == 0:
            return "no load above 0"
        residue = {
            "lb": f"{self.lb_residue:,} of {self.loads:,} loads are round kg written in lb",
            "kg": f"{self.kg_residue:,} of {self.loads:,} loads are round lb written in kg",
        }
        if self.residue_unit is not None:
            return residue[self.residue_unit]
        plates = f"{self.share(self.plates):.0%} of loaded sets at 135/225/315/405"
        grid = f"{self.share(self.kg_grid):.0%} on the 2.5 kg grid"
        other = f"{self.lb_residue + self.kg_residue} with conversion residue"
        return f"{plates}, {grid}, {other}"


def _quarter(value: pl.Expr, relative: bool = False) -> pl.Expr:
    """A multiple of 0.25: within a relative 1e-4 (a converted value), or within 0.001."""
    quarters = value * 4
    off = (quarters - quarters.round()).abs()
    return off <= 1e-4 * quarters if relative else off < 0.004


def _step(value: pl.Expr, step: float) -> pl.Expr:
    steps = value / step
    return (steps - steps.round()).abs() < _DUST


def _plate(value: pl.Expr) -> pl.Expr:
    return _step(value, 1.0) & value.round(0).is_in(PLATES_LB)


def _stated_units() -> pl.Expr:
    """The unit each row states, normalised (`lbs` is lb); null where it states none."""
    return (
        pl.col("unit")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(UNIT_CHOICES, default=pl.col("unit"), return_dtype=pl.String)
        .replace("", None)
    )


def _loads(rows: pl.DataFrame) -> pl.Series:
    return rows["load"].str.strip_chars().cast(pl.Float64, strict=False)


def decide(rows: pl.DataFrame, hints: ReadHints, fmt: str) -> Decisions:
    """The unit of the loads of `rows` (canonical text columns) whose `unit` is empty, and
    where it came from, with the evidence in a sentence."""
    if hints.file_unit is not None:
        return _decided(hints.file_unit, FROM_FILE_UNIT, "file_unit in repflow.toml")
    stated = rows.select(_stated_units()).to_series()
    loads = _loads(rows)
    unstated = loads.filter(stated.is_null())
    if stated.is_not_null().any() and not bool((unstated.fill_null(0) > 0).any()):
        return _stated(stated.filter(loads.fill_null(0) > 0))
    evidence = Evidence.of(unstated)
    if evidence.unit is not None:
        return _decided(evidence.unit, FROM_LOADS, evidence.sentence)
    unclear = f"no clear evidence in the file ({evidence.sentence})"
    earlier = hints.earlier(fmt).unit
    if earlier is not None:
        return _decided(earlier, FROM_EARLIER_FILES, f"as this athlete's earlier files: {unclear}")
    return _decided(hints.unit, FROM_SETTING, f"the athlete's unit setting: {unclear}")


def _decided(unit: str, source: str, why: str) -> Decisions:
    return Decisions(unit=unit, unit_source=source, unit_evidence=f"loads read as {unit}: {why}")


def _stated(units: pl.Series) -> Decisions:
    counts = units.value_counts(sort=True)
    if counts.height == 1:
        unit = str(counts[units.name][0])
        return Decisions(unit=unit, unit_source=FROM_FILE, unit_evidence=f"the file says {unit}")
    per_row = ", ".join(f"{n:,} {u}" for u, n in counts.iter_rows())
    return Decisions(unit_source=FROM_FILE, unit_evidence=f"the file says per row: {per_row}")


def resolve(rows: pl.DataFrame, hints: ReadHints, fmt: str) -> tuple[pl.DataFrame, Decisions]:
    """`rows` with the decided unit where the file states none (or everywhere, for
    `file_unit`) and the lifter's unit marked (`lifter_units`), and the decision."""
    decided = decide(rows, hints, fmt)
    if decided.unit_source == FROM_FILE_UNIT:
        rows = rows.with_columns(unit=pl.lit(decided.unit))
    elif decided.unit_source != FROM_FILE:
        unstated = _stated_units().is_null()
        rows = rows.with_columns(
            unit=pl.when(unstated).then(pl.lit(decided.unit)).otherwise(pl.col("unit"))
        )
    return lifter_units(rows), decided


def lifter_units(rows: pl.DataFrame) -> pl.DataFrame:
    """Mark the exercises whose loads are round pounds written in kg (`LIFTER_UNIT` = `lb`).

    Some apps store kg converted from lb: Strong's legacy export writes 6.80388555 for 15 lb,
    Fitbod 7.937875915123695 for 17.5 lb. When every non-zero load of an exercise in the file
    is a multiple of 0.25 lb (within a relative 1e-4) and none is within 0.001 kg of a multiple
    of 0.25 kg, the lifter loads in lb, and advice comes back in lb. The load itself is kept as
    written; validation applies the mark only where the load is read as kg."""
    kg = pl.col("load").cast(pl.Float64, strict=False)
    read_as_kg = pl.col("unit").is_null() | (pl.col("unit").str.to_lowercase() == "kg")
    loaded = read_as_kg & (kg > 0)
    exercise = pl.col("exercise").str.to_lowercase().str.strip_chars()
    pounds = (
        loaded.any() & (_quarter(kg / LB_TO_KG, relative=True) | ~loaded).all()
        & ~(_quarter(kg) & loaded).any()
    ).over(exercise)  # fmt: skip
    unit = pl.when(read_as_kg & pounds).then(pl.lit("lb")).otherwise(pl.lit(None, pl.String))
    return rows.with_columns(unit.alias(LIFTER_UNIT))
