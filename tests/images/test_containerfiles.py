"""The production and development Containerfiles: base image, user, build inputs, lint."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from deploy_airflow_on_ecs_fargate.airflow_settings import SECRET_VARIABLES
from deploy_airflow_on_ecs_fargate.config import AIRFLOW_VERSION, PYTHON_VERSION_IN_IMAGE, REPO_ROOT

from .conftest import DEV_CONTAINERFILE, PROD_CONTAINERFILE

OFFICIAL_IMAGE = f"apache/airflow:{AIRFLOW_VERSION}-python{PYTHON_VERSION_IN_IMAGE}"


def instructions(parser: DockerfileParser, name: str) -> list[str]:
    return [item["value"] for item in parser.structure if item["instruction"] == name]


def copy_sources(parser: DockerfileParser) -> list[str]:
    sources: list[str] = []
    for value in instructions(parser, "COPY"):
        words = [word for word in shlex.split(value) if not word.startswith("--")]
        sources.extend(words[:-1])  # the last word is the destination
    return sources


def test_prod_image_is_the_official_airflow_image_of_the_pinned_versions(prod: DockerfileParser) -> None:
    assert prod.parent_images == [OFFICIAL_IMAGE]
    assert prod.labels["org.opencontainers.image.base.name"] == OFFICIAL_IMAGE


def test_dev_image_starts_from_the_prod_image(dev: DockerfileParser) -> None:
    # `prod` is the named build context docker-compose.yml fills with the production image.
    assert dev.parent_images == ["prod"]


@pytest.mark.parametrize("path", [PROD_CONTAINERFILE, DEV_CONTAINERFILE], ids=["prod", "dev"])
def test_images_run_as_the_unprivileged_airflow_user(path: Path) -> None:
    from .conftest import parse_containerfile

    users = instructions(parse_containerfile(path), "USER")
    assert users, f"{path.name} sets no USER"
    assert users[-1] == "airflow"
    assert all(user.split(":")[0] not in {"root", "0"} for user in users), users


def test_prod_image_bakes_in_no_configuration(prod: DockerfileParser) -> None:
    """Settings come from the task definition (airflow_settings.py), never from the image."""
    baked = set(prod.envs)
    assert not {name for name in baked if name.startswith(("AIRFLOW__", "ECSFLOW_"))}
    assert not baked & set(SECRET_VARIABLES)
    # Only the worker task definition sets DUMB_INIT_SETSID=0 (warm shutdown); ECS ignores image health checks.
    assert "DUMB_INIT_SETSID" not in baked
    assert not instructions(prod, "HEALTHCHECK")
    assert not instructions(prod, "ENTRYPOINT") and not instructions(prod, "CMD"), "keep the official entrypoint"


def test_prod_image_installs_pyproject_dependencies_against_airflow_constraints(prod: DockerfileParser) -> None:
    runs = " ".join(instructions(prod, "RUN"))
    assert "image_requirements.py" in runs
    assert '"${HOME}/constraints.txt"' in runs, "install against the constraints the official image was built with"
    assert re.search(r"pip install [^&]*--constraint /tmp/ecsflow-build/constraints.txt", runs)
    assert "pip check" in runs
    # The runtime package goes in without re-resolving its dependencies.
    assert re.search(r"pip install --no-cache-dir --no-deps /tmp/ecsflow-src", runs)


def test_prod_image_contains_package_dags_and_plugins(prod: DockerfileParser) -> None:
    sources = copy_sources(prod)
    for needed in ("pyproject.toml", "deploy_airflow_on_ecs_fargate", "dags", "plugins"):
        assert needed in sources


@pytest.mark.parametrize("path", [PROD_CONTAINERFILE, DEV_CONTAINERFILE], ids=["prod", "dev"])
def test_every_copy_source_exists_and_passes_dockerignore(path: Path) -> None:
    from .conftest import parse_containerfile

    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in copy_sources(parse_containerfile(path)):
        target = REPO_ROOT / source
        assert target.exists(), f"{path.name} copies {source}, which is not in the repository"
        files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(REPO_ROOT).as_posix()
            if "__pycache__" in relative or relative.endswith(".pyc"):
                continue
            assert not ignored(relative, patterns), f"{relative} is copied but .dockerignore leaves it out"


@pytest.mark.parametrize("path", [".venv/bin/python", ".local/postgres/PG_VERSION", "node_modules/x.js", "tests/x.py"])
def test_dockerignore_keeps_local_state_out_of_the_build_context(path: str) -> None:
    patterns = [
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored(path, patterns)


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path (or a parent of it) decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    decision = False
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        variants = {pattern, pattern.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(candidate, variant) for candidate in candidates for variant in variants):
            decision = not negated
    return decision


def test_ignored_follows_the_last_matching_pattern() -> None:
    patterns = ["*", "!dags/", "**/__pycache__"]
    assert ignored("secret.txt", patterns)
    assert not ignored("dags/example.py", patterns)
    assert ignored("dags/__pycache__/example.pyc", patterns)


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(__import__("sys").executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", str(PROD_CONTAINERFILE), str(DEV_CONTAINERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
