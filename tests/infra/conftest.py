"""Shared fixtures of the infrastructure tests: each stack is synthesized once per session.

Synthesis takes seconds and ~1 GB, so the example config's template (with cdk-nag's checks,
which fail synthesis on any unacknowledged finding) and one "every option switched" variant are
built once and shared. The figures (resource counts, synth times, scanner results) are printed
in the pytest summary under "infrastructure report".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import Stack
from aws_cdk.assertions import Template

from deploy_airflow_on_ecs_fargate.config import DEFAULT_CONFIG_FILE, ENV_PREFIX, Settings, load_config
from infrastructure.synth import build_app

REPORT: dict[str, str] = {}

# Every option the example config leaves off, switched on (and a second worker pool).
VARIANT_CONFIG: dict[str, Any] = {
    "environment": "data-team",
    "aws": {
        "region": "eu-west-1",
        "account": "123456789012",
        "architecture": "X86_64",
        "nat_gateways": 1,
        "image_uri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/airflow:3.3.2-1",
        "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123",
        "domain_name": "airflow.example.com",
        "allowed_cidrs": ["203.0.113.0/24", "2001:db8::/32"],
        "container_insights": True,
        "log_retention_days": 90,
        "services_to_firehose": True,
        "alarm_email": "ops@example.com",
    },
    "database": {"multi_az": True, "deletion_protection": False, "backup_retention_days": 14},
    "worker_pools": [
        {"name": "default", "capacity_provider": "FARGATE_SPOT", "min_workers": 0, "max_workers": 6},
        {
            "name": "heavy",
            "cpu": 4096,
            "memory_mib": 16384,
            "concurrency": 2,
            "capacity_provider": "FARGATE",
            "min_workers": 1,
            "max_workers": 3,
        },
    ],
    "standalone_task": {"log_destination": "cloudwatch"},
    "scheduled_scaling": {"enabled": True, "timezone": "Europe/Lisbon"},
    "airflow": {"broker_visibility_timeout_seconds": 7200},
}


@dataclass(frozen=True)
class Synthesized:
    settings: Settings
    stack: Stack
    template: dict[str, Any]
    assertions: Template
    template_path: Path
    seconds: float

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.template["Resources"].items() if value["Type"] == resource_type}

    def only(self, resource_type: str) -> dict[str, Any]:
        found = list(self.resources(resource_type).values())
        assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
        return found[0]


def _clean_settings(path: Path | None = None, **data: Any) -> Settings:
    """Settings from a file or a dict, ignoring any ECSFLOW_* variables of the developer's shell."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(ENV_PREFIX):
                patch.delenv(name)
        return load_config(path) if path is not None else Settings(**data)


def _synthesize(settings: Settings, outdir: Path, label: str) -> Synthesized:
    started = time.monotonic()
    app, stack = build_app(settings, outdir=str(outdir))
    assembly = app.synth()
    seconds = time.monotonic() - started
    artifact = assembly.get_stack_by_name(stack.stack_name)
    template_path = outdir / artifact.template_file
    template: dict[str, Any] = json.loads(template_path.read_text())
    counts = Counter(resource["Type"] for resource in template["Resources"].values())
    REPORT[f"{label}: resources"] = f"{sum(counts.values())} in {len(counts)} types, synth {seconds:.1f} s"
    if label == "example":
        REPORT["example: resources by type"] = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    return Synthesized(settings, stack, template, Template.from_json(template), template_path, seconds)


@pytest.fixture(scope="session")
def report() -> dict[str, str]:
    """Figures printed in the pytest summary ("infrastructure report")."""
    return REPORT


@pytest.fixture(scope="session")
def synth_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ecsflow-infra-tests-") as directory:
        yield Path(directory)


@pytest.fixture(scope="session")
def example(synth_dir: Path) -> Synthesized:
    """The committed example config (ecsflow.yaml), as users deploy it first."""
    return _synthesize(_clean_settings(DEFAULT_CONFIG_FILE), synth_dir / "example", "example")


@pytest.fixture(scope="session")
def variant(synth_dir: Path) -> Synthesized:
    return _synthesize(_clean_settings(**VARIANT_CONFIG), synth_dir / "variant", "variant")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    terminalreporter.section("infrastructure report")
    for key, value in REPORT.items():
        terminalreporter.write_line(f"{key}: {value}")


@dataclass(frozen=True)
class CliSynth:
    template_path: Path
    seconds: float
    stderr: str


CDK_CLI = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / ("cdk.cmd" if os.name == "nt" else "cdk")


@pytest.fixture(scope="session")
def cli_synth(synth_dir: Path) -> CliSynth:
    """`cdk synth` exactly as a user runs it (cdk.json -> python -m infrastructure.app), with no AWS credentials."""
    assert CDK_CLI.exists(), "the CDK CLI is not installed: run `npm ci` (./ecsflow test does it)"
    outdir = synth_dir / "cli"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", ENV_PREFIX))}
    # No credentials anywhere: no profile file, no instance metadata lookups.
    env.update(
        AWS_CONFIG_FILE=str(synth_dir / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(synth_dir / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DISABLE_VERSION_CHECK="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        # cdk.json runs `python -m infrastructure.app`: this virtualenv's Python, as `./ecsflow synth` does.
        PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    started = time.monotonic()
    completed = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=CDK_CLI.parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    seconds = time.monotonic() - started
    assert completed.returncode == 0, completed.stderr[-3000:]
    REPORT["cdk synth (CLI, no credentials)"] = f"{seconds:.1f} s wall clock, exit 0"
    return CliSynth(outdir / "airflow-stack.template.json", seconds, completed.stderr)
