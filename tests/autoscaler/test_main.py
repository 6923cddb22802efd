"""The command line of the autoscaler process: bad input is one line on stderr; `once` prints decisions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.autoscaler import metadata

POOLS = json.dumps({"default": {"service": "", "cluster": "", "concurrency": 4, "min": 0, "max": 3}})


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ECSFLOW_", "AIRFLOW__"))}
    return subprocess.run(
        [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.autoscaler", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["once"],
            {"ECSFLOW_AUTOSCALER_POOLS": POOLS, "ECSFLOW_AUTOSCALER": "{}"},
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        ),
        (["once"], {"ECSFLOW_AUTOSCALER_POOLS": "{oops", "ECSFLOW_AUTOSCALER": "{}"}, "not valid JSON"),
        (
            ["once"],
            {"ECSFLOW_AUTOSCALER_POOLS": '{"a": {"concurrency": 0, "min": 0, "max": 1}}', "ECSFLOW_AUTOSCALER": "{}"},
            "concurrency >= 1",
        ),
        (
            ["once"],
            {"ECSFLOW_AUTOSCALER_POOLS": POOLS, "ECSFLOW_AUTOSCALER": '{"poll_seconds": 0}'},
            "ECSFLOW_AUTOSCALER is invalid",
        ),
        (
            ["run", "--backend", "local"],
            {
                "ECSFLOW_AUTOSCALER_POOLS": POOLS,
                "ECSFLOW_AUTOSCALER": "{}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite://",
            },
            "ECSFLOW_LOCAL_LOG_DIR",
        ),
        (
            ["run", "--backend", "ecs"],
            {
                "ECSFLOW_AUTOSCALER_POOLS": POOLS,
                "ECSFLOW_AUTOSCALER": "{}",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite://",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
            "without an ECS service",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], env: dict[str, str], message: str) -> None:
    result = run(args, env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_once_prints_the_decision_of_each_pool(db) -> None:  # type: ignore[no-untyped-def]
    metadata.add_task_instances(db.engine, "queued", 6)
    result = run(
        ["once"],
        {"ECSFLOW_AUTOSCALER_POOLS": POOLS, "ECSFLOW_AUTOSCALER": "{}", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db.url},
    )
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout.strip().splitlines()[-1])
    assert decision["event"] == "autoscaler_decision"
    assert (decision["pool"], decision["queued"], decision["desired"], decision["action"]) == (
        "default",
        6,
        2,
        "scale_out",
    )
