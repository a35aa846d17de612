"""The repflow machine export, version 1: how a connected gym machine reports its sets.

There is no open standard, so this is ours; `docs/machine_export.schema.json` publishes it as
JSON Schema. A file holds one export object, or one per line (JSON Lines). The envelope (format
and machine) must be valid for the file to load; each set is then validated as a `SetRow`, so
one bad set is a reject, not a lost session.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_ID = "repflow.machine/1"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MachineSet(Strict):
    reps: int | None = Field(default=None, ge=0, le=1000)
    weight_kg: float | None = Field(default=None, ge=0, le=1000)
    duration_s: float | None = Field(default=None, ge=0)
    rpe: float | None = Field(default=None, ge=1, le=10)
    set_type: Literal["working", "warmup", "drop", "failure"] | None = None


class MachineSession(Strict):
    member_id: str | None = Field(
        default=None, description="The athlete; absent: the inbox folder's athlete"
    )
    started_at: str = Field(description="ISO 8601; without an offset, the athlete's timezone")
    sets: list[MachineSet]


class Machine(Strict):
    id: str = Field(min_length=1, max_length=128, description="Machine serial: sets.device_id")
    model: str | None = None
    exercise: str = Field(min_length=1, max_length=200)
    stack_increment_kg: float | None = Field(
        default=None, gt=0, le=100, description="Weight-stack step: the load step for this machine"
    )


class MachineExport(Strict):
    format: Literal["repflow.machine/1"]
    machine: Machine
    sessions: list[MachineSession]


class MachineEnvelope(BaseModel):
    """What must hold for a file to load at all; the sets are checked row by row later."""

    model_config = ConfigDict(extra="ignore")

    format: Literal["repflow.machine/1"]
    machine: Machine
    sessions: list[dict[str, object]]
