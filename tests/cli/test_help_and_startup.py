"""Every command has --help; `ecsflow --help` starts fast and imports neither Airflow, boto3 nor CDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

COMMANDS = [
    ["deploy"],
    ["diff"],
    ["synth"],
    ["destroy"],
    ["run-task"],
    ["db"],
    ["db", "migrate"],
    ["users"],
    ["users", "create"],
    ["exec"],
    ["scale"],
    ["status"],
    ["logs"],
    ["url"],
    ["config"],
    ["config", "show"],
    ["config", "validate"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(command, cli):
    result = cli(*command, "--help")
    assert result.exit_code == 0
    assert f"Usage: ecsflow {' '.join(command)}" in result.stdout


def test_run_task_help_shows_the_options_the_seed_users_need(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich shortens long option names in a narrow terminal
    text = cli("run-task", "--help").stdout
    for option in ("--command", "--cpu", "--memory", "--capacity-provider", "--wait", "--no-wait", "--profile"):
        assert option in text


# pydantic is not listed: typer itself imports it to convert option values.
HEAVY = ("airflow", "aws_cdk", "boto3", "botocore", "moto", "sqlalchemy")


@pytest.mark.parametrize("args", [["--help"], ["run-task", "--help"], ["scale", "--help"], ["status", "--help"]])
def test_help_imports_nothing_heavy(args):
    code = (
        "import sys\n"
        "from deploy_airflow_on_ecs_fargate.cli.main import app\n"
        f"try:\n    app({args!r}, prog_name='ecsflow')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
