"""The nightly deployment: prefect.yaml (written by `repflow prefect-yaml`) and `repflow serve`
describe the same one, with the schedule of the config."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest
import yaml

from flows.config import load
from flows.deployment import DEPLOYMENT, prefect_yaml
from schemas.config_files import ConfigError
from tests.conftest import ROOT, Workspace, repflow


def deployment() -> dict[str, object]:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    (only,) = spec["deployments"]
    assert isinstance(only, dict)
    return only


def test_prefect_yaml_is_written_from_the_packaged_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPFLOW_CONFIG", raising=False)
    packaged = load()  # config/repflow.toml
    assert (ROOT / "prefect.yaml").read_text() == prefect_yaml(packaged, "config/repflow.toml")
    (schedule,) = deployment()["schedules"]  # type: ignore[misc]
    assert schedule["cron"] == packaged.settings.schedule.cron
    assert schedule["timezone"] == packaged.settings.schedule.timezone
    assert schedule["active"] is True


def test_a_changed_schedule_reaches_prefect_yaml(tmp_path: Path) -> None:
    from prefect.cli.deploy._models import PrefectYamlModel  # the model `prefect deploy` uses

    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "repflow.toml").write_text(
        '[schedule]\ncron = "30 2 * * 1-5"\ntimezone = "Europe/Berlin"\n'
    )
    made = repflow("prefect-yaml", "--config", str(folder), "--out", "prefect.yaml", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    text = (tmp_path / "prefect.yaml").read_text()
    assert "from config/repflow.toml" in text  # named relative to where it was written
    (schedule,) = PrefectYamlModel.model_validate(yaml.safe_load(text)).deployments[0].schedules
    assert (schedule.cron, schedule.timezone) == ("30 2 * * 1-5", "Europe/Berlin")
    printed = repflow("prefect-yaml", "--config", str(folder), cwd=tmp_path)
    assert printed.returncode == 0 and printed.stdout == text


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
    from flows.nightly import nightly

    spec = deployment()
    path, name = str(spec["entrypoint"]).split(":")
    module = importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", "."))
    assert getattr(module, name) is nightly
    assert spec["name"] == DEPLOYMENT
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
