"""Run settings: command-line flags, then `REPFLOW_*` environment variables, then
`repflow.toml` in the config folder, then these defaults."""

from __future__ import annotations

import re
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from schemas.set_row import RowContext, is_athlete_id

DEFAULT_DB = "warehouse.duckdb"
# The TOML file settings are read from; set by the loader before the model is built.
SETTINGS_FILE: ContextVar[Path | None] = ContextVar("SETTINGS_FILE", default=None)


def valid_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    return name


Timezone = Annotated[str, AfterValidator(valid_timezone)]


def valid_athlete(name: str) -> str:
    if not is_athlete_id(name):
        raise ValueError(f"{name!r} is not a valid athlete_id (as an inbox folder's name)")
    return name


AthleteId = Annotated[str, AfterValidator(valid_athlete)]


def valid_scheduler(address: str) -> str:
    if not re.fullmatch(r"(tcp|tls)://[^\s:/]+:\d{1,5}", address):
        raise ValueError(
            f"{address!r} is not a Dask scheduler address (use tcp://host:port, e.g. "
            "tcp://scheduler:8786)"
        )
    return address


SchedulerAddress = Annotated[str, AfterValidator(valid_scheduler)]


def valid_lake(spec: str) -> str:
    if not re.fullmatch(r"ducklake:(sqlite|postgres):.+", spec):
        raise ValueError(
            f"{spec!r} is not a DuckLake warehouse: use ducklake:sqlite:<file> "
            "or ducklake:postgres:<connection string>"
        )
    return spec


LakeSpec = Annotated[str, AfterValidator(valid_lake)]


class AthleteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    timezone: Timezone | None = None
    unit: Literal["kg", "lb"] | None = None
    # The unit of this athlete's app exports' loads, whatever a file says or its loads suggest:
    # an operator's fix for a file read in the wrong unit (DESIGN.md, "Sources").
    file_unit: Literal["kg", "lb"] | None = None
    # Day and month order of dates written in numbers (`05/06/18`), where a file does not show
    # it and no earlier file of the athlete's in that format was read either way.
    date_order: Literal["dmy", "mdy"] | None = None


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    cron: str = "0 3 * * *"
    timezone: Timezone = "UTC"
    # The local Prefect server `repflow serve` starts when PREFECT_API_URL is not set; 0 = any
    # free port. 4200 is Prefect's own default, so its UI is where Prefect's docs say.
    server_port: int = Field(default=4200, ge=0, le=65535)


class Settings(BaseSettings):
    """Everything a run needs to know, typed; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix="REPFLOW_", extra="forbid", frozen=True, allow_inf_nan=False
    )

    inbox: Path = Path("inbox")
    db: Path = Path(DEFAULT_DB)
    analytics_db: Path | None = None
    # A DuckLake instead of the `db` file: its catalog, and where its Parquet files go.
    warehouse: LakeSpec | None = None
    data_path: str | None = None
    config: Path | None = None
    timezone: Timezone = "UTC"
    unit: Literal["kg", "lb"] = "kg"
    lock_timeout_s: float = Field(default=10.0, ge=0, le=86_400)
    # A file modified less than this long ago is still being written (a sync, a download): it
    # waits for the next run. 0 in tests and the bench, which write their files just before.
    settle_s: float = Field(default=2.0, ge=0, le=3600)
    # New files are parsed and stored in batches of up to this many files and bytes (a large
    # file alone): a small file's fixed costs are paid once per batch (docs/performance.md).
    batch_files: int = Field(default=500, ge=1, le=100_000)
    batch_bytes: int = Field(default=32 << 20, ge=1, le=1 << 40)
    # Where the per-file parse runs: this process, or a Dask cluster (docs/scaling.md).
    runner: Literal["local", "dask"] = "local"
    dask_workers: int | None = Field(default=None, ge=1, le=1024)  # None: one per CPU core
    dask_address: SchedulerAddress | None = None  # an existing cluster instead of a local one
    athletes: dict[AthleteId, AthleteSettings] = {}
    schedule: Schedule = Schedule()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = SETTINGS_FILE.get()
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if toml is not None:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=toml),)
        return sources

    @property
    def analytics_path(self) -> Path:
        """`analytics_db`, else the snapshot beside the warehouse's real file, named after it:
        `analytics.duckdb` for `warehouse.duckdb`, `<name>.analytics.duckdb` for any other, so
        that two warehouses in one folder never share a snapshot."""
        if self.analytics_db is not None:
            return self.analytics_db
        real = self.db.resolve()
        if real.name == DEFAULT_DB:
            return real.with_name("analytics.duckdb")
        return real.with_name(f"{real.stem}.analytics.duckdb")

    def row_context(self) -> RowContext:
        return RowContext(
            timezone=self.timezone,
            unit=self.unit,
            athlete_timezones={a: s.timezone for a, s in self.athletes.items() if s.timezone},
            athlete_units={a: s.unit for a, s in self.athletes.items() if s.unit},
        )
