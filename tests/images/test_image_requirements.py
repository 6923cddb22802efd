"""build/prod/image_requirements.py: pyproject.toml -> the image's requirements and constraints."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy_airflow_on_ecs_fargate.config import AIRFLOW_VERSION, REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SCRIPT = REPO_ROOT / "build" / "prod" / "image_requirements.py"

# A constraints file shaped like Airflow's: a comment header, then name==version lines.
CONSTRAINTS = """\
# This constraints file was automatically generated
apache-airflow==3.3.2
apache-airflow-providers-amazon==9.30.0
apache_airflow_providers_celery==3.20.0
Celery==5.7.0
boto3==1.40.0
pycurl==7.45.6
"""


def test_requirements_are_pyprojects_runtime_dependencies(image_requirements: ModuleType) -> None:
    requirements = image_requirements.project_requirements(PYPROJECT)
    assert requirements == PYPROJECT["project"]["dependencies"]
    pinned = image_requirements.exactly_pinned(requirements)
    assert pinned["apache-airflow"] == AIRFLOW_VERSION
    # celery 5.7.0 breaks the celery provider 3.26.0; the image must get 5.6.3 like every other environment.
    assert pinned["celery"] == "5.6.3"
    for provider in ("amazon", "celery", "fab", "postgres"):
        assert f"apache-airflow-providers-{provider}" in pinned


def test_image_pins_are_the_locked_versions(image_requirements: ModuleType) -> None:
    """The image installs what the local environment and the tests run: the lock agrees with every pin."""
    lock = (REPO_ROOT / "requirements" / "runtime.lock").read_text(encoding="utf-8")
    locked = {
        canonicalize_name(name): version for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)", lock, re.M)
    }
    pinned = image_requirements.exactly_pinned(image_requirements.project_requirements(PYPROJECT))
    assert pinned
    for name, version in pinned.items():
        assert locked.get(name) == version, f"{name}: pyproject pins {version}, runtime.lock has {locked.get(name)}"


def test_exact_pins_override_the_constraints_and_everything_else_stays(image_requirements: ModuleType) -> None:
    requirements = ["apache-airflow==3.3.2", "apache-airflow-providers-amazon==9.39.0", "celery[sqs]==5.6.3"]
    requirements += ["apache-airflow-providers-celery==3.26.0", "boto3>=1.35", "pycurl>=7.45"]
    kept = image_requirements.constraints_without(CONSTRAINTS, image_requirements.exactly_pinned(requirements))
    names = {canonicalize_name(Requirement(line).name) for line in kept.splitlines() if line and line[0] != "#"}
    # Pinned ones are dropped whatever the spelling in the constraints file (underscores, capitals).
    assert names == {"boto3", "pycurl"}
    assert kept.startswith("# This constraints file")


def test_ranges_and_wildcards_are_not_exact_pins(image_requirements: ModuleType) -> None:
    pinned = image_requirements.exactly_pinned(["a==1.*", "b>=1,<2", "c===1.0", "d==2.0", "e~=1.2"])
    assert pinned == {"d": "2.0"}


def test_dependency_groups_are_available_for_the_dev_image(image_requirements: ModuleType) -> None:
    dev = image_requirements.project_requirements(PYPROJECT, "dev")
    assert any(Requirement(item).name == "pytest" for item in dev)


def test_script_writes_both_files(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(CONSTRAINTS, encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(REPO_ROOT / "pyproject.toml"), str(constraints), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "requirements.txt").read_text(encoding="utf-8").splitlines() == PYPROJECT["project"]["dependencies"]
    written = (out / "constraints.txt").read_text(encoding="utf-8")
    assert "Celery==5.7.0" not in written and "apache-airflow==3.3.2" not in written
    assert "boto3==1.40.0" in written


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_unknown_group_is_one_line_on_stderr(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text(CONSTRAINTS, encoding="utf-8")
    result = run_script(str(REPO_ROOT / "pyproject.toml"), str(constraints), str(tmp_path), "--group", "nope")
    assert result.returncode == 1
    assert result.stderr.strip() == "image_requirements: pyproject.toml has no [dependency-groups] nope"


def test_missing_constraints_file_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = run_script(str(REPO_ROOT / "pyproject.toml"), str(tmp_path / "absent.txt"), str(tmp_path))
    assert result.returncode == 1
    assert "No such file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_broken_constraints_line_is_reported(image_requirements: ModuleType) -> None:
    with pytest.raises(ValueError, match="is not a requirement"):
        image_requirements.constraints_without("not a requirement ===\n", {"x"})
