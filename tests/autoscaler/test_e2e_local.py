"""End to end in the local environment: 0 workers, a DAG run, a worker appears, success, back to 0."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig
from deploy_airflow_on_ecs_fargate.local import processes
from deploy_airflow_on_ecs_fargate.local.environment import INSTANCE_VAR
from tests.autoscaler.fake_agent import FakeAgent
from tests.autoscaler.local_env import AutoscaledEnvironment

pytestmark = pytest.mark.e2e

GRACE_SECONDS = 5
DAG_ID = "benchmark_two_tasks"


@pytest.fixture(scope="module")
def agent() -> Iterator[FakeAgent]:
    fake = FakeAgent()
    yield fake
    fake.server.shutdown()


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory, agent: FakeAgent) -> Iterator[AutoscaledEnvironment]:
    data_dir = tmp_path_factory.mktemp("autoscaled-local")
    # The workers see an ECS agent endpoint, as on Fargate: they must hold scale-in protection while busy.
    env = AutoscaledEnvironment.create(data_dir, GRACE_SECONDS, ECS_AGENT_URI=agent.uri)
    try:
        env.up()
        yield env
    finally:
        down = env.down()
        leftovers = list(processes.marked_processes(INSTANCE_VAR, str(data_dir)))
        assert down.returncode == 0, down.stderr
        assert not leftovers, [p.cmdline() for p in leftovers]


def test_workers_follow_the_work_from_zero_and_back(environment: AutoscaledEnvironment, agent: FakeAgent) -> None:
    # Idle: the autoscaler runs and keeps no worker.
    environment.wait(lambda: environment.state().get("pools", {}).get("default"), 60, "a first decision")
    assert environment.worker_pids() == []
    assert environment.state()["pools"]["default"]["current"] == 0

    triggered = time.time()
    with environment.api() as api:
        response = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        assert response.status_code == 200, response.text
        run_id = urllib.parse.quote(response.json()["dag_run_id"], safe="")
        appeared = environment.wait(lambda: environment.worker_pids(), 60, "a worker process")
        pids = environment.worker_pids()
        assert all(psutil.pid_exists(pid) for pid in pids)

        def finished() -> bool:
            return api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"] in ("success", "failed")

        environment.wait(finished, 240, "the DAG run to finish")
        assert api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"] == "success"

    # Idle again: after the grace period the workers are stopped (warm) and gone.
    environment.wait(lambda: not environment.worker_pids(), GRACE_SECONDS + 60, "the workers to stop")
    environment.wait(lambda: not any(psutil.pid_exists(pid) for pid in pids), 60, "worker processes to exit")
    decisions = (environment.data_dir / "logs" / "autoscaler.log").read_text()
    assert '"action": "scale_out"' in decisions and '"action": "scale_in"' in decisions
    print(f"worker process {appeared - triggered:.1f} s after the trigger")

    # The real Airflow worker (execute_workload Celery tasks) protected itself while each task ran,
    # through the import in celery_config, and released the protection once idle.
    states = [call["ProtectionEnabled"] for call in agent.calls]
    assert states and states == [True, False] * (len(states) // 2), agent.calls
    assert agent.calls[0]["ExpiresInMinutes"] == AutoscalerConfig().task_protection_minutes  # type: ignore[call-arg]


def test_worker_logs_go_to_the_log_dir(environment: AutoscaledEnvironment) -> None:
    logs = sorted(Path(environment.data_dir / "logs").glob("worker-default-*.log"))
    assert logs, "no worker log"
    assert "execute_workload" in "".join(log.read_text() for log in logs)
