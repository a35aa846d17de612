"""docs/operations.md: every `repflow` command in it parses against the real CLI."""

from __future__ import annotations

import re
import shlex

import typer
from typer.core import TyperGroup

from flows.cli import app
from tests.conftest import ROOT

OPERATORS = {"&&", "||", ";", "|"}


def shell_commands(markdown: str) -> list[list[str]]:
    """The commands in the ```sh blocks (a continued or multi-line quoted command as one) and
    the systemd unit's ExecStart."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL):
        pending = ""
        for line in block.splitlines():
            pending += line.removesuffix("\\") + ("\n" if not line.endswith("\\") else " ")
            if line.endswith("\\"):
                continue
            try:
                commands.append(shlex.split(pending, comments=True))
            except ValueError:  # a quote still open: the command goes on
                continue
            pending = ""
    for unit in re.findall(r"```ini\n(.*?)```", markdown, flags=re.DOTALL):
        commands += [shlex.split(line) for line in re.findall(r"^ExecStart=(.*)$", unit, re.M)]
    return [command for command in commands if command]


def repflow_invocations(commands: list[list[str]]) -> list[list[str]]:
    found = []
    for tokens in commands:
        for start, token in enumerate(tokens):
            if token.endswith("bin/repflow"):
                rest = tokens[start + 1 :]
                end = next((i for i, t in enumerate(rest) if t in OPERATORS), len(rest))
                found.append(rest[:end])
    return found


def test_every_repflow_command_in_the_runbook_parses() -> None:
    invocations = repflow_invocations(shell_commands((ROOT / "docs" / "operations.md").read_text()))
    used = {args[0] for args in invocations}
    assert {"run", "ingest", "serve", "sql"} <= used, used
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    for args in invocations:
        with group.make_context("repflow", list(args), resilient_parsing=False) as context:
            command = group.get_command(context, args[0])
            assert command is not None, args
            command.make_context(args[0], list(args[1:]), parent=context)


def test_the_runbook_names_the_real_make_targets_lock_file_and_deployment() -> None:
    from flows.deployment import DEPLOYMENT

    text = (ROOT / "docs" / "operations.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"make ([\w./]+)", text):
        assert re.search(rf"^(\$\(STAMP\)|{re.escape(target)}):", makefile, re.M) or (
            target == ".venv/.installed" and "STAMP := $(VENV)/.installed" in makefile
        ), target
    assert "warehouse.duckdb.run.lock" in text
    from warehouse.lock import lock_path

    assert lock_path(ROOT / "warehouse.duckdb").name == "warehouse.duckdb.run.lock"
    assert f"nightly/{DEPLOYMENT}" in text
