"""Connected gym machines: the repflow machine export (schemas/machine_export.py), as one JSON
object or as JSON Lines. A session's `member_id` names the athlete; the machine's stack
increment is kept for the progression rules."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from pydantic import ValidationError

from schemas.machine_export import FORMAT_ID, MachineEnvelope
from sources.base import Parsed, ReadHints, text_frame
from sources.content import Source
from sources.csv_text import UnreadableFile, decode

FORMAT = "machine_json"
VERSION = 1


def detect(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return start.startswith(b"{") and FORMAT_ID.encode() in head[:4096]


def _documents(text: str) -> list[tuple[int, str]]:
    """(line, JSON text) of each export: the whole file, or one per non-blank line."""
    try:
        json.loads(text)
        return [(1, text)]
    except json.JSONDecodeError:
        return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _text(value: Any) -> str | None:
    return None if value is None else str(value) if not isinstance(value, str) else value


def _broken(line: int, raw: str, reason: str) -> dict[str, Any]:
    return {"source_line": line, "raw": raw[:2000], "structure_error": reason}


def _rows(line: int, document: str, machines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    try:
        export = MachineEnvelope.model_validate_json(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return [_broken(line, document, f"not a {FORMAT_ID} export: {where}: {first['msg']}")]
    machine = export.machine
    machines.append(
        {
            "device_id": machine.id,
            "model": machine.model,
            "exercise_raw": machine.exercise,
            "stack_increment_kg": machine.stack_increment_kg,
        }
    )
    rows = []
    for session in export.sessions:
        sets = session.get("sets")
        if not isinstance(sets, list):
            rows.append(_broken(line, json.dumps(session), "a session without a list of sets"))
            continue
        for index, item in enumerate(sets, 1):
            item = item if isinstance(item, dict) else {"reps": item}
            rows.append(
                {
                    "source_line": line,
                    "raw": json.dumps({**session, "sets": [item]}, ensure_ascii=False),
                    "structure_error": None,
                    "athlete_id": _text(session.get("member_id")),
                    "session_key": _text(session.get("started_at")),
                    "performed_at": _text(session.get("started_at")),
                    "exercise": machine.exercise,
                    "set_index": str(index),
                    "set_type": _text(item.get("set_type")),
                    "reps": _text(item.get("reps")),
                    "load": _text(item.get("weight_kg")),
                    "unit": "kg",
                    "rpe": _text(item.get("rpe")),
                    "duration_s": _text(item.get("duration_s")),
                    "device_id": machine.id,
                }
            )
    return rows


def read(path: Source, hints: ReadHints) -> Parsed:
    """Our own format, whose writers state units and ISO 8601 times: no hint is needed."""
    machines: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for line, document in _documents(decode(path.read_bytes())):
        rows += _rows(line, document, machines)
    if not rows:
        raise UnreadableFile(f"a {FORMAT_ID} export with no sessions")
    frame = text_frame(rows)
    return Parsed(
        format=FORMAT,
        rows=frame,
        names_athletes=frame["athlete_id"].is_not_null().any(),
        machines=pl.DataFrame(
            machines,
            schema={
                "device_id": pl.String,
                "model": pl.String,
                "exercise_raw": pl.String,
                "stack_increment_kg": pl.Float64,
            },
        ).unique("device_id", keep="last", maintain_order=True),
    )
