"""The nightly deployment: prefect.yaml and `repflow serve` describe the same one as the config."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from flows.config import load
from schemas.config_files import ConfigError
from tests.conftest import ROOT, Workspace


def deployment() -> dict[str, object]:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    (only,) = spec["deployments"]
    assert isinstance(only, dict)
    return only


def test_prefect_yaml_schedules_the_default_cron_and_timezone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REPFLOW_CONFIG", raising=False)
    defaults = load().settings.schedule  # the packaged config/repflow.toml
    (schedule,) = deployment()["schedules"]  # type: ignore[misc]
    assert schedule["cron"] == defaults.cron
    assert schedule["timezone"] == defaults.timezone
    assert schedule["active"] is True


def test_prefect_yaml_is_what_prefect_deploy_reads() -> None:
    from prefect.cli.deploy._models import PrefectYamlModel  # the model `prefect deploy` uses

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    model = PrefectYamlModel.model_validate(spec)
    (schedule,) = model.deployments[0].schedules or []
    assert schedule.cron == deployment()["schedules"][0]["cron"]  # type: ignore[index]
    for step in model.pull or []:
        (name,) = step
        module, function = name.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), function)), name


def test_prefect_yaml_names_the_served_flow_and_deployment() -> None:
    from flows import serve
    from flows.nightly import nightly

    spec = deployment()
    path, name = str(spec["entrypoint"]).split(":")
    module = importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", "."))
    assert getattr(module, name) is nightly
    assert spec["name"] == serve.DEPLOYMENT
    assert spec["work_pool"]["name"] and spec["concurrency_limit"] == 1  # type: ignore[index]


def test_served_parameters_are_absolute_paths(workspace: Workspace) -> None:
    from flows.serve import parameters

    config = workspace.config()
    chosen = parameters(config, {"config": ROOT / "config"})["settings"]
    assert chosen == {
        "inbox": str(workspace.inbox.resolve()),
        "db": str(workspace.db.resolve()),
        "config": str((ROOT / "config").resolve()),
    }
    assert load(chosen).settings.db == workspace.db.resolve()


def test_a_bad_cron_is_a_config_error_naming_the_key(workspace: Workspace, tmp_path: Path) -> None:
    from flows.serve import schedule

    folder = tmp_path / "config"
    folder.mkdir()
    for name in ("programs.toml", "exercises.toml"):
        (folder / name).write_bytes((ROOT / "config" / name).read_bytes())
    (folder / "repflow.toml").write_text('[schedule]\ncron = "0 3 * *"\n')
    config = workspace.config(config=folder)
    with pytest.raises(ConfigError) as error:
        schedule(config, folder / "repflow.toml")
    assert error.value.file == str(folder / "repflow.toml")
    assert error.value.key == "schedule.cron"
