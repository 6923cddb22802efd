"""The config model: file + environment overrides, and plain-words errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.config import DEFAULT_CONFIG_FILE, ConfigError, Settings, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ecsflow.yaml"
    path.write_text(text)
    return path


def test_committed_example_config_is_valid() -> None:
    settings = load_config(DEFAULT_CONFIG_FILE)
    assert settings.worker_pools[0].name == "default"
    assert settings.aws.nat_gateways == 0


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "aws:\n  region: eu-west-1\nlocal:\n  api_port: 9000\n")
    monkeypatch.setenv("ECSFLOW_LOCAL__API_PORT", "9100")
    settings = load_config(path)
    assert settings.local.api_port == 9100
    assert settings.aws.region == "eu-west-1"


def test_every_problem_is_listed_in_plain_words(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "airflow:\n  executor: LocalExecutor\n  bogus: 1\napi_server:\n  cpu: 300\n"
        "worker_pools:\n  - name: default\n    min_workers: 5\n    max_workers: 2\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    problems = caught.value.problems
    assert "airflow.executor: must be 'CeleryExecutor'" in problems
    assert "airflow.bogus: is not a known setting (check the spelling)" in problems
    assert any(p.startswith("api_server: cpu 300 is not a Fargate size") for p in problems)
    assert "worker_pools.0: min_workers (5) is above max_workers (2)" in problems
    assert all("\n" not in p for p in problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("environment: [1\n", "not valid YAML at line 2"),
        ("- a\n- b\n", "the file must hold a mapping of settings"),
        ("worker_pools:\n  - name: batch\n  - name: batch\n", "worker pool names must be unique, repeated: batch"),
        ("local:\n  api_port: 5055\n", "the local ports must differ"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_defaults_need_no_file() -> None:
    assert Settings().stack_name == "airflow-stack"
