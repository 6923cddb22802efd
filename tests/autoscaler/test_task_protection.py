"""Worker-side scale-in protection against a fake ECS agent endpoint, with a real prefork Celery worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.autoscaler import task_protection
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig
from tests.autoscaler.fake_agent import FakeAgent


@pytest.fixture()
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.server.shutdown()


def test_put_body_matches_the_agent_api(agent: FakeAgent) -> None:
    assert task_protection.set_protection(True, 90, agent.uri)
    assert task_protection.set_protection(False, 90, agent.uri)
    assert agent.calls == [
        {"path": "/task-protection/v1/state", "ProtectionEnabled": True, "ExpiresInMinutes": 90},
        {"path": "/task-protection/v1/state", "ProtectionEnabled": False},
    ]


def test_no_agent_means_no_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECS_AGENT_URI", raising=False)
    assert task_protection.set_protection(True, 10) is False


def test_unreachable_agent_is_logged_not_raised() -> None:
    assert task_protection.set_protection(True, 10, "http://127.0.0.1:9", timeout=0.5) is False


def test_protection_minutes_come_from_the_autoscaler_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECSFLOW_AUTOSCALER", json.dumps({"task_protection_minutes": 45}))
    assert task_protection.protection_minutes() == 45


def test_real_prefork_worker_protects_while_any_task_runs(agent: FakeAgent, tmp_path: Path) -> None:
    broker = tmp_path / "broker"
    broker.mkdir()
    here = Path(__file__).parent
    env = {
        **os.environ,
        "ECS_AGENT_URI": agent.uri,
        "TEST_BROKER_DIR": str(broker),
        "PYTHONPATH": f"{here}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    env.pop("ECSFLOW_AUTOSCALER", None)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "celery_protection_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        env=env,
        cwd=here,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sys.path.insert(0, str(here))
        os.environ["TEST_BROKER_DIR"] = str(broker)
        import celery_protection_app

        # Two overlapping tasks on two pool processes, then one more after a gap.
        celery_protection_app.sleep.delay(2.0)
        celery_protection_app.sleep.delay(3.0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(agent.calls) < 2:
            time.sleep(0.1)
        celery_protection_app.sleep.delay(0.5)
        while time.monotonic() < deadline and len(agent.calls) < 4:
            time.sleep(0.1)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        sys.path.remove(str(here))
        os.environ.pop("TEST_BROKER_DIR", None)
    states = [call["ProtectionEnabled"] for call in agent.calls]
    # One "on" when the first task starts, one "off" after the last of the two ends (not after the
    # first of them), then on/off again for the later task.
    assert states == [True, False, True, False], (agent.calls, output[-2000:])
    assert agent.calls[0]["ExpiresInMinutes"] == AutoscalerConfig().task_protection_minutes  # type: ignore[call-arg]
