"""`ecsflow config show | validate`."""

from __future__ import annotations

import json

import yaml


def test_show_prints_the_effective_config_with_overrides(aws_environment, monkeypatch, cli):
    monkeypatch.setenv("ECSFLOW_AWS__REGION", "ap-south-1")
    result = cli("config", "show")
    assert result.exit_code == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["environment"] == "clitest"
    assert data["aws"]["region"] == "ap-south-1"  # the environment wins over the file
    assert data["worker_pools"][1]["name"] == "heavy"
    assert data["standalone_task"]["capacity_provider"] == "FARGATE"  # defaults are shown too
    assert json.loads(cli("config", "show", "-o", "json").stdout) == data


def test_validate(aws_environment, cli):
    result = cli("config", "validate")
    assert result.exit_code == 0
    assert f"configuration OK: {aws_environment}" in result.stdout.replace("\n", "")


def test_validate_lists_every_problem(tmp_path, cli):
    bad = tmp_path / "bad.yaml"
    bad.write_text("scheduler:\n  desired_count: 5\n  max_count: 2\nairflow:\n  log_levle: INFO\n")
    result = cli("config", "validate", "--config", str(bad))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == f"ecsflow: invalid configuration in {bad}:"
    assert "  scheduler: desired_count (5) is above max_count (2)" in lines
    assert "  airflow.log_levle: is not a known setting (check the spelling)" in lines


def test_missing_file(tmp_path, cli):
    result = cli("config", "validate", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "the file does not exist" in result.stderr
