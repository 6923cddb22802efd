"""Shared fixtures of the image tests: the parsed Containerfiles, the Compose file and the settings.

No Docker engine runs on the test machines, so these tests check the files statically: parsed with
the same rules Docker uses (dockerfile-parse, PyYAML), linted with hadolint, and compared with the
pins and settings the rest of the project uses.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from deploy_airflow_on_ecs_fargate.config import DEFAULT_CONFIG_FILE, ENV_PREFIX, REPO_ROOT, Settings, load_config

PROD_CONTAINERFILE = REPO_ROOT / "build" / "prod" / "Containerfile"
DEV_CONTAINERFILE = REPO_ROOT / "build" / "dev" / "Containerfile"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"


def parse_containerfile(path: Path) -> DockerfileParser:
    # An in-memory file: the parser re-reads its file on every property access.
    return DockerfileParser(fileobj=io.BytesIO(path.read_bytes()))


def load_script(path: Path) -> ModuleType:
    """Import a script that is not in a package (build/..., scripts/...) by its path."""
    name = f"images_test_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def committed_settings() -> Settings:
    """The committed ecsflow.yaml, without the ECSFLOW_* overrides of whoever runs the tests."""
    saved = {key: value for key, value in os.environ.items() if key.startswith(ENV_PREFIX)}
    for key in saved:
        del os.environ[key]
    try:
        return load_config(DEFAULT_CONFIG_FILE)
    finally:
        os.environ.update(saved)


@pytest.fixture(scope="session")
def prod() -> DockerfileParser:
    return parse_containerfile(PROD_CONTAINERFILE)


@pytest.fixture(scope="session")
def dev() -> DockerfileParser:
    return parse_containerfile(DEV_CONTAINERFILE)


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="session")
def generate_compose() -> ModuleType:
    return load_script(REPO_ROOT / "scripts" / "generate_compose.py")


@pytest.fixture(scope="session")
def image_requirements() -> ModuleType:
    return load_script(REPO_ROOT / "build" / "prod" / "image_requirements.py")


@pytest.fixture(scope="session")
def compose_init() -> ModuleType:
    return load_script(REPO_ROOT / "build" / "dev" / "compose_init.py")
