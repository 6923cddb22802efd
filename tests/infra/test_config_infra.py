"""The config sections the stack adds, and that an invalid config stops `cdk synth` before synthesis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy_airflow_on_ecs_fargate.config import ENV_PREFIX, ConfigError, Settings, load_config

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env.update(extra)
    return env


def problems(data: dict[str, Any], tmp_path: Path) -> list[str]:
    import yaml

    path = tmp_path / "ecsflow.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as error:
        load_config(path)
    return error.value.problems


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    found = problems(
        {
            "aws": {"image_tag": "bad tag!", "domain_name": "not a domain", "ecr_max_images": 0},
            "observability": {"log_bucket_expiration_days": 0, "statsd_namespace": "", "dashbord": True},
            "standalone_task": {"log_destination": "syslog"},
        },
        tmp_path,
    )
    locations = sorted(problem.split(":")[0] for problem in found)
    assert locations == [
        "aws.domain_name",
        "aws.ecr_max_images",
        "aws.image_tag",
        "observability.dashbord",
        "observability.log_bucket_expiration_days",
        "observability.statsd_namespace",
        "standalone_task.log_destination",
    ]
    assert any("not a known setting" in problem for problem in found)


def test_cdk_app_refuses_an_invalid_config_before_synthesis(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("aws:\n  architecture: MIPS\n  log_retention_days: 12\nworker_pools:\n  - name: A\n")
    completed = subprocess.run(
        [sys.executable, "-m", "infrastructure.app"],
        cwd=ROOT,
        env=clean_env(ECSFLOW_CONFIG=str(path), CDK_OUTDIR=str(tmp_path / "out")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert lines[0].startswith("ecsflow: invalid configuration in")
    assert [line.split(":")[0].strip(" -") for line in lines[1:]] == [
        "aws.architecture",
        "aws.log_retention_days",
        "worker_pools.0.name",
    ]
    assert not (tmp_path / "out").exists()


# Nonsense values for the settings the stack reads: each must be refused with a message, never crash.
NONSENSE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=-1),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
FIELDS = [
    ("aws", "image_tag"),
    ("aws", "ecr_max_images"),
    ("aws", "domain_name"),
    ("aws", "certificate_arn"),
    ("aws", "allowed_cidrs"),
    ("aws", "vpc_cidr"),
    ("aws", "log_retention_days"),
    ("observability", "log_bucket_expiration_days"),
    ("observability", "firehose_buffer_seconds"),
    ("observability", "statsd_namespace"),
    ("observability", "queue_age_alarm_minutes"),
    ("standalone_task", "log_destination"),
    ("database", "engine_version"),
    ("scheduled_scaling", "timezone"),
    ("scheduled_scaling", "scale_down_cron"),
]


@given(field=st.sampled_from(FIELDS), value=NONSENSE)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_nonsense_values_are_refused_or_valid(field: tuple[str, str], value: Any) -> None:
    section, name = field
    try:
        parsed = Settings(**{section: {name: value}})
    except Exception as error:  # pydantic's ValidationError: load_config turns it into ConfigError
        assert type(error).__name__ == "ValidationError", repr(error)
        return
    # Accepted only if it is a legal value of the field (None where the field is optional).
    stored = getattr(getattr(parsed, section), name)
    assert stored is None or stored == value or str(stored) == str(value)


@given(
    cpu=st.integers(min_value=-10, max_value=20000),
    memory=st.integers(min_value=-10, max_value=130000),
)
@settings(max_examples=200, deadline=None)
def test_worker_pool_sizes_are_fargate_sizes_or_refused(cpu: int, memory: int) -> None:
    from deploy_airflow_on_ecs_fargate.config import FARGATE_MEMORY_BY_CPU

    try:
        Settings(worker_pools=[{"name": "default", "cpu": cpu, "memory_mib": memory}])  # type: ignore[list-item]
    except Exception as error:
        assert type(error).__name__ == "ValidationError"
        assert memory not in FARGATE_MEMORY_BY_CPU.get(cpu, [])
    else:
        assert memory in FARGATE_MEMORY_BY_CPU[cpu]


def test_cdk_app_refuses_repository_only_with_an_external_image(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "infrastructure.app"],
        cwd=ROOT,
        env=clean_env(
            ECSFLOW_CONFIG=str(ROOT / "ecsflow.yaml"),
            ECSFLOW_AWS__IMAGE_URI="example.com/airflow:1",
            CDK_CONTEXT_JSON='{"ecsflow:repository-only": "true"}',
            CDK_OUTDIR=str(tmp_path / "out"),
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "ecsflow: ecsflow:repository-only needs the stack's ECR repository, but aws.image_uri is set"
    ]


def test_environment_with_consecutive_hyphens_is_refused(tmp_path: Path) -> None:
    assert problems({"environment": "data--team"}, tmp_path) == [
        "environment: 'data--team' has consecutive hyphens, which AWS resource names refuse"
    ]
