"""Fixtures of the local-environment tests: free ports, isolated settings, one shared running environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.config import REPO_ROOT, Settings, load_config

OUTPUT_DIR = REPO_ROOT / "test-output"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def local_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of an isolated local environment: own data dir, free ports, no user overrides."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ECSFLOW_")}
    env.update(
        {
            "ECSFLOW_LOCAL__DATA_DIR": str(data_dir),
            "ECSFLOW_LOCAL__API_PORT": str(free_port()),
            "ECSFLOW_LOCAL__MOTO_PORT": str(free_port()),
            "ECSFLOW_LOCAL__POSTGRES_PORT": str(free_port()),
            "ECSFLOW_LOCAL__STATSD_PORT": str(free_port()),
        }
    )
    env.update(extra)
    return env


def settings_for(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key in [key for key in os.environ if key.startswith("ECSFLOW_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("ECSFLOW_"):
            monkeypatch.setenv(key, value)
    return load_config()


def ecsflow(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def isolated_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    yield local_env(tmp_path / "data")


def error_lines(stderr: str) -> list[str]:
    """The lines of an error report, without the launcher's note that it is preparing the virtualenv."""
    launcher_notes = ("ecsflow: preparing .venv", "ecsflow: installing uv")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(launcher_notes)]
