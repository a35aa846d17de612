"""Speediance session details: one workout of a Speediance Gym Monster (a cable machine), as
the machine's cloud returns it.

The file is a JSON list of exercises (`actionLibraryName`), each with its sets
(`finishedReps`: `finishedCount` reps done of `targetCount`, `breakTime` s of programmed rest)
and, per set, every rep's data (`trainingInfoDetail`: the load on each cable, power, rope
speed, range of motion, a timestamp in epoch ms). A set's load is its reps' `weights` (both
cables together); its time is its first rep's. The rep data goes to `rep_metrics`. The file
names no unit: the machine shows the account's, so the file's loads are in it, decided as for
every app that names none (sources.units: the athlete's `file_unit`, the loads' evidence, earlier
files, the `unit` setting).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl

from sources import units
from sources.base import Parsed, ReadHints, text_frame
from sources.content import Source
from sources.csv_text import UnreadableFile, decode
from sources.sets import only_sets

FORMAT = "speediance_json"
VERSION = 1
# How a set is completed (`completionMethod`): by seconds for these, else by reps. Level-based
# sets (Vita) count seconds too, and their "weight" is a level, not a load.
TIMED_METHODS = (0, 2, 5)
LEVEL_STAT_TYPE = 6
# Per-rep arrays, by side, and the rep_metrics column each becomes.
SIDES = ("left", "right")
REP_ARRAYS = {
    "Weights": "load",
    "Watts": "power_w",
    "RopeSpeeds": "speed_m_s",
    "Amplitudes": "rom_m",
}
REP_SCHEMA = pl.Schema(
    {
        "source_line": pl.Int64(),
        "rep": pl.Int64(),
        "performed_at": pl.Datetime("ms", "UTC"),
        "set_load": pl.Float64(),
        **{f"{column}_{side}": pl.Float64() for column in REP_ARRAYS.values() for side in SIDES},
    }
)


def detect(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"[") and b'"actionLibraryName"' in head and b'"finishedReps"' in head


def _numbers(value: Any) -> list[float | None]:
    if not isinstance(value, list):
        return []
    return [
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None for v in value
    ]


def _at(values: list[float | None], index: int) -> float | None:
    return values[index] if index < len(values) else None


def _timed(exercise: dict[str, Any]) -> bool:
    return (
        exercise.get("completionMethod") in TIMED_METHODS
        or exercise.get("dataStatType") == LEVEL_STAT_TYPE
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    return str(value)


def _broken(line: int, raw: str, reason: str) -> dict[str, Any]:
    return {"source_line": line, "raw": raw, "structure_error": reason}


def _rep_times(detail: dict[str, Any]) -> list[float | None]:
    """Each rep's time in epoch ms: the earlier side's, as one cable may lag the other."""
    left, right = _numbers(detail.get("leftTimestamps")), _numbers(detail.get("rightTimestamps"))
    return [
        min((t for t in (_at(left, i), _at(right, i)) if t is not None), default=None)
        for i in range(max(len(left), len(right)))
    ]


def _set_row(
    line: int, name: str, index: int, item: dict[str, Any], timed: bool, session: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One set's row, and its reps' rows for rep_metrics."""
    detail = item.get("trainingInfoDetail")
    detail = detail if isinstance(detail, dict) else {}
    shown = {k: v for k, v in item.items() if k != "trainingInfoDetail"}
    raw = json.dumps({"actionLibraryName": name, **shown}, ensure_ascii=False)
    times = _rep_times(detail)
    first = next((t for t in times if t is not None), None)
    weights = [w for w in _numbers(detail.get("weights")) if w is not None]
    reps = item.get("finishedCount")
    load = None if timed else _set_load(weights, item.get("capacity"), reps)
    row = {
        "source_line": line,
        "raw": raw,
        "structure_error": None,
        "session_id": session,
        "session_key": session,
        "performed_at": None
        if first is None
        else datetime.fromtimestamp(first / 1000, UTC).isoformat(),
        "exercise": name,
        "set_index": str(index),
        "set_type": "working",
        "reps": None if timed else _text(reps),
        "target_reps": None if timed else _text(item.get("targetCount")),
        "rest_s": _text(item.get("breakTime")),
        "duration_s": _text(item.get("time")) if timed else None,
        "load": None if load is None else repr(load),
    }
    # A set not done (no reps, no time) is skipped as no set, whatever its detail holds.
    done = bool(item.get("time") if timed else reps)
    if first is None and done:
        row["structure_error"] = "a set with no rep timestamps: when it was done is unknown"
    return row, [] if timed else _rep_rows(line, detail, times, load)


def _set_load(weights: list[float], capacity: Any, reps: Any) -> float | None:
    """The set's load: its reps' load, or their mean when the machine changed it within the
    set (an auto-regulated mode), so that reps × load is the machine's own volume."""
    if weights:
        return round(sum(weights) / len(weights), 4)
    if isinstance(capacity, int | float) and isinstance(reps, int) and reps > 0:
        return round(capacity / reps, 4)
    return None


def _rep_rows(
    line: int, detail: dict[str, Any], times: list[float | None], load: float | None
) -> list[dict[str, Any]]:
    series = {
        f"{column}_{side}": _numbers(detail.get(f"{side}{key}"))
        for key, column in REP_ARRAYS.items()
        for side in SIDES
    }
    count = max([len(times), *(len(values) for values in series.values())])
    return [
        {
            "source_line": line,
            "rep": rep + 1,
            "performed_at": None
            if _at(times, rep) is None
            else datetime.fromtimestamp(float(_at(times, rep) or 0) / 1000, UTC),
            "set_load": load,
            **{name: _at(values, rep) for name, values in series.items()},
        }
        for rep in range(count)
    ]


def read(path: Source, hints: ReadHints) -> Parsed:
    try:
        exercises = json.loads(decode(path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(exercises, list):
        raise UnreadableFile("a Speediance session detail is a JSON list of exercises")
    rows: list[dict[str, Any]] = []
    reps: list[dict[str, Any]] = []
    for exercise in exercises:
        line = len(rows) + 1
        sets = exercise.get("finishedReps") if isinstance(exercise, dict) else None
        name = exercise.get("actionLibraryName") if isinstance(exercise, dict) else None
        if not isinstance(sets, list) or not isinstance(name, str):
            raw = json.dumps(exercise, ensure_ascii=False)[:2000]
            rows.append(_broken(line, raw, "an exercise without a name and a list of sets"))
            continue
        for index, item in enumerate(sets, 1):
            line = len(rows) + 1
            if not isinstance(item, dict):
                rows.append(_broken(line, json.dumps(item), "a set that is not a JSON object"))
                continue
            session = _text(_session_id(item))
            row, rep_rows = _set_row(line, name, index, item, _timed(exercise), session)
            rows.append(row)
            reps += rep_rows
    if not rows:
        raise UnreadableFile("a Speediance session detail with no exercises")
    found, skipped = only_sets(text_frame(rows))
    frame, decided = units.resolve(found, hints, FORMAT)
    return Parsed(
        format=FORMAT,
        rows=frame,
        skipped=skipped,
        rep_metrics=pl.DataFrame(reps, schema=REP_SCHEMA),
        decisions=decided,
    )


def _session_id(item: dict[str, Any]) -> Any:
    """The machine's id of the workout (`cttTrainingInfoId`), the same in every set."""
    detail = item.get("trainingInfoDetail")
    return detail.get("cttTrainingInfoId") if isinstance(detail, dict) else None
