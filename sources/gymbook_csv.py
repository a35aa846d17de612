"""GymBook (iOS) CSV exports, in the app's language: one row a set, recognised by structure.

`Data,Programma,Orario,Esercizio,Zona,Gruppi muscolari (Primari),Gruppi muscolari (Secondari),
Set / Set di riscaldamento / Set di defaticamento,Ripetizioni / Tempo,Peso / Distanza,Appunti,
Saltato` in Italian: a date in numbers (`09/01/25`, in the phone's order) and a time; the set
type in the app's words, which the header itself lists (set / warm-up / cool-down); reps or a
time (`20 ripetizioni`, `60 secondi`, `2 minuti`); a weight or a distance with its unit in the
cell and a decimal comma (`10,00 kg`, `0,55 km`); whether the set was skipped. A skipped set was
not done: it is no set. A cool-down set is stored as a warm-up (neither counts as work).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from sources import muscles, sets, timestamps, units
from sources.base import SESSION_KEY, TRACE_COLUMNS, Parsed, ReadHints
from sources.columns import METRES_PER, scaled
from sources.csv_text import UnreadableFile, first_line, header_names, read_table

FORMAT = "gymbook_csv"
VERSION = 1
COLUMNS = (
    "date", "workout", "time", "exercise", "region", "primary", "secondary", "set_type",
    "reps_or_time", "weight_or_distance", "notes", "skipped",
)  # fmt: skip
# The header cells that list the app's words, separated by ` / `: how many each lists.
LISTS = {"set_type": 3, "reps_or_time": 2, "weight_or_distance": 2}
# The words GymBook writes, in the languages we know, beside those the header lists.
REPS = ("reps", "rep", "ripetizioni", "ripetizione", "wiederholungen", "wdh", "répétitions",
        "répétition", "rép", "repeticiones", "repetición", "repetições", "repetição",
        "herhalingen", "herhaling", "x")  # fmt: skip
SECONDS_PER = {
    **dict.fromkeys(("s", "sec", "second", "seconds", "secondi", "secondo", "sekunden",
                     "sekunde", "sek", "secondes", "seconde", "segundos", "segundo",
                     "seconden"), 1.0),
    **dict.fromkeys(("min", "minute", "minutes", "minuti", "minuto", "minuten", "minutos",
                     "minuut"), 60.0),
    **dict.fromkeys(("h", "hour", "hours", "ore", "ora", "stunden", "stunde", "heures",
                     "heure", "horas", "hora", "uur"), 3600.0),
}  # fmt: skip
LOAD_UNITS = {"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb"}
YES = ("yes", "y", "true", "1", "si", "sì", "sí", "ja", "oui", "sim", "tak", "да")
NO = ("no", "n", "false", "0", "nein", "non", "não", "nao", "nee", "nie", "нет")
# A value and its word: `20 ripetizioni`, `10,00 kg`, `60 secondi`.
_AMOUNT = r"^(?P<number>\d+(?:[.,]\d+)?)\s*(?P<word>\p{L}+\.?)?$"


def _separator(line: str) -> str:
    return ";" if line.count(";") > line.count(",") else ","


def _listed(cell: str) -> list[str]:
    return [part.strip().lower() for part in cell.split(" / ")]


def _fits(header: list[str]) -> bool:
    """GymBook's twelve columns: the three that list the app's words (`Set / Warm-up / Cool-down`,
    `Reps / Time`, `Weight / Distance`) where GymBook writes them, and the two muscle-group
    columns one name with what they hold in brackets."""
    if len(header) != len(COLUMNS):
        return False
    at = {role: header[i] for i, role in enumerate(COLUMNS)}
    lists = all(len(_listed(at[role])) == n for role, n in LISTS.items())
    primary, secondary = (_bracketed(at[role]) for role in ("primary", "secondary"))
    return lists and primary is not None and primary == secondary


def _bracketed(cell: str) -> str | None:
    """The name before a bracketed word (`Gruppi muscolari (Primari)`), else None."""
    found = re.fullmatch(r"(.+?)\s*\((.+)\)", cell)
    return None if found is None else found.group(1)


def detect(head: bytes) -> bool:
    line = first_line(head)
    return _fits(header_names(line, _separator(line)))


def read(path: Path, hints: ReadHints) -> Parsed:
    data = path.read_bytes()
    table = read_table(data, _separator(first_line(data[:65536])))
    if not _fits([cell.lower() for cell in table.header]):
        raise UnreadableFile("a GymBook export whose columns are not GymBook's twelve")
    column = dict(zip(COLUMNS, table.header, strict=True))
    rows = table.rows.with_columns(
        pl.col(column[role]).str.strip_chars().alias(role) for role in COLUMNS
    )
    skipped = _skip_flag(pl.col("skipped"))
    done = rows.filter(pl.col("structure_error").is_not_null() | skipped.ne_missing("yes"))
    done = done.with_columns(
        structure_error=pl.coalesce(
            "structure_error",
            pl.when(skipped.is_null()).then(
                pl.format("{} is '{}': neither yes nor no", pl.lit(column["skipped"]), "skipped")
            ),
        )
    )
    dates = timestamps.decide_order(done["date"], hints, FORMAT)
    when = pl.concat_str(["date", "time"], separator=" ", ignore_nulls=True)
    measure = pl.col("reps_or_time").str.extract_groups(_AMOUNT).struct
    weight = pl.col("weight_or_distance").str.extract_groups(_AMOUNT).struct
    per_second = _word(measure["word"]).replace_strict(SECONDS_PER, default=None)
    is_reps = _word(measure["word"]).is_in([*REPS, _listed(column["reps_or_time"])[0]])
    load_unit = _word(weight["word"]).replace_strict(LOAD_UNITS, default=None)
    per_metre = _word(weight["word"]).replace_strict(METRES_PER, default=None)
    amount = weight["number"].str.replace(",", ".")
    unnamed = weight["number"].is_not_null() & weight["word"].is_null()
    frame = done.select(
        *TRACE_COLUMNS,
        # A workout is its day and its program; each set has its own time of day.
        **{SESSION_KEY: pl.concat_str(["date", "workout"], separator=" ", ignore_nulls=True)},
        performed_at=timestamps.iso(done.select(when).to_series(), dates.order),
        exercise="exercise",
        set_type=_set_type(pl.col("set_type"), _listed(column["set_type"])),
        # A value GymBook would not write is passed on as written, for the contract to reject.
        reps=pl.when(is_reps).then(measure["number"]).when(per_second.is_null())
        .then(pl.col("reps_or_time")),
        duration_s=pl.when(per_second.is_not_null()).then(
            scaled(measure["number"].str.replace(",", "."), per_second)
        ),
        # A weight without its unit is in the file's unit (sources.units decides it).
        load=pl.when(load_unit.is_not_null() | unnamed).then(amount)
        .when(per_metre.is_null()).then(pl.col("weight_or_distance")),
        unit=load_unit,
        distance_m=pl.when(per_metre.is_not_null()).then(scaled(amount, per_metre)),
    )  # fmt: skip
    found, unlogged = sets.only_sets(frame)
    read_in, decided = units.resolve(sets.numbered(found), hints, FORMAT)
    given = {"primary": muscles.PRIMARY, "secondary": muscles.SECONDARY, "region": muscles.CATEGORY}
    return Parsed(
        format=FORMAT,
        rows=read_in,
        skipped=rows.height - done.height + unlogged,
        decisions=dates.on(decided),
        muscles=muscles.given(rows, given),
    )


def _word(word: pl.Expr) -> pl.Expr:
    return word.str.to_lowercase().str.strip_suffix(".")


def _skip_flag(value: pl.Expr) -> pl.Expr:
    """`yes` or `no` in any language GymBook writes; null for anything else."""
    lowered = value.str.to_lowercase()
    return (
        pl.when(lowered.is_in(YES)).then(pl.lit("yes")).when(lowered.is_in(NO)).then(pl.lit("no"))
    )


def _set_type(value: pl.Expr, words: list[str]) -> pl.Expr:
    """The header's three words, in order: a set, a warm-up set, a cool-down set (stored as a
    warm-up). Another word is passed on, for the contract to reject."""
    kinds = dict(zip(words, ("working", "warmup", "warmup"), strict=True))
    return value.str.to_lowercase().replace_strict(kinds, default=value, return_dtype=pl.String)
