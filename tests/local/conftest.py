"""Fixtures of the local-environment tests: free ports, isolated settings, one shared running environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.config import REPO_ROOT, Settings, load_config
from deploy_airflow_on_ecs_fargate.local.isolated import isolated_environment

OUTPUT_DIR = REPO_ROOT / "test-output"


def local_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment of an isolated local environment: own data dir, free ports, no user overrides."""
    return isolated_environment(data_dir, **extra)


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
