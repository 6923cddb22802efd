"""Decision latency: from a task instance becoming queued to the scale-out call (UpdateService).

A real PostgreSQL with Airflow's schema (``airflow db migrate``) and the real controller loop
(``Controller.run`` in a thread, ECS backend against moto's in-process ECS API). Each trial starts
from an idle pool (0 workers, nothing queued), waits a random fraction of the poll interval (so
trials do not line up with the polls), commits one queued task instance and measures the time until
the backend's UpdateService(desiredCount=1) call returns. Real AWS adds its API round trip
(tens of milliseconds) to the figure measured here against moto.

Run: ``.venv/bin/python benchmarks/autoscaler_decision_latency.py [--trials 30] [--poll 5 1]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import threading
import time
import uuid

import boto3
import sqlalchemy as sa
from autoscaler_metadata_db import start
from moto import mock_aws

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import create_engine
from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget
from deploy_airflow_on_ecs_fargate.autoscaler.controller import Controller
from deploy_airflow_on_ecs_fargate.autoscaler.ecs_backend import EcsBackend
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig

CLUSTER, SERVICE = "bench", "worker-default"


def prepare(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO dag_bundle (name) VALUES ('bench') ON CONFLICT DO NOTHING"))
        c.execute(
            sa.text(
                "INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, timetable_type, partition_mapper_info, "
                "max_active_tasks, max_consecutive_failed_dag_runs, has_task_concurrency_limits) "
                "VALUES ('bench', false, false, 'bench', '', '{}', 16, 0, false) ON CONFLICT DO NOTHING"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, state) "
                "VALUES ('bench', 'run', 'manual', now(), 'running')"
            )
        )


class RecordingBackend(EcsBackend):
    def __post_init__(self) -> None:
        super().__post_init__()
        self.scale_outs: list[float] = []

    def apply(self, pool: str, desired: int) -> str:
        outcome = super().apply(pool, desired)
        if desired > 0:
            self.scale_outs.append(time.monotonic())
        return outcome


def trial_run(engine: sa.Engine, url: str, poll: float, trials: int) -> list[float]:
    session = boto3.Session(region_name="us-east-1")
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family="w", containerDefinitions=[{"name": "w", "image": "x", "memory": 512}])
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="w", desiredCount=0)
    pools = {"default": PoolTarget("default", SERVICE, CLUSTER, concurrency=8, min_workers=0, max_workers=4)}
    backend = RecordingBackend(pools, session=session)
    settings = AutoscalerConfig(poll_seconds=poll, scale_in_grace_seconds=0)  # type: ignore[call-arg]
    controller = Controller(pools, settings, create_engine(url), backend, emit=lambda line: None)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    thread.start()
    latencies = []
    for _ in range(trials):
        time.sleep(random.uniform(0, poll))
        before = len(backend.scale_outs)
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, max_tries, "
                    "pool, pool_slots, state, queue) VALUES (:id, :t, 'bench', 'run', -1, 1, 0, 'default_pool', 1, "
                    "'queued', 'default')"
                ),
                {"id": str(uuid.uuid4()), "t": f"t-{uuid.uuid4().hex[:8]}"},
            )
        queued_at = time.monotonic()
        deadline = queued_at + poll * 4 + 10
        while len(backend.scale_outs) == before and time.monotonic() < deadline:
            time.sleep(0.005)
        if len(backend.scale_outs) == before:
            raise SystemExit("no scale-out within the deadline")
        latencies.append(backend.scale_outs[-1] - queued_at)
        # Back to idle: the task is done and the pool is empty again (scale-in grace 0).
        with engine.begin() as c:
            c.execute(sa.text("UPDATE task_instance SET state = 'success' WHERE state = 'queued'"))
        while int(ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["desiredCount"]) != 0:
            time.sleep(0.05)
    stop.set()
    thread.join(timeout=30)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--poll", type=float, nargs="+", default=[AutoscalerConfig().poll_seconds, 1.0])  # type: ignore[call-arg]
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    _server, url = start()
    engine = sa.create_engine(url)
    prepare(engine)
    print(f"{'poll s':>6} {'trials':>6} {'p50 s':>6} {'p95 s':>6} {'max s':>6}")
    for poll in args.poll:
        with mock_aws():
            latencies = sorted(trial_run(engine, url, poll, args.trials))
        p95 = latencies[max(int(len(latencies) * 0.95) - 1, 0)]
        print(f"{poll:6.1f} {len(latencies):6d} {statistics.median(latencies):6.2f} {p95:6.2f} {latencies[-1]:6.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
