"""The controller end to end against a real PostgreSQL (Airflow schema) and moto's ECS, App Auto Scaling, CloudWatch."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import create_engine
from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget
from deploy_airflow_on_ecs_fargate.autoscaler.controller import Controller
from deploy_airflow_on_ecs_fargate.autoscaler.ecs_backend import EcsBackend, _deployment_in_progress, resource_id
from deploy_airflow_on_ecs_fargate.autoscaler.metrics import MetricsPublisher
from deploy_airflow_on_ecs_fargate.autoscaler.state import parse_decision_line, read_state
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig
from tests.autoscaler import metadata

CLUSTER = "airflow-cluster"
SERVICE = "airflow-worker-default"
GRACE = 120


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        ecs = session.client("ecs")
        ecs.create_cluster(clusterName=CLUSTER)
        ecs.register_task_definition(
            family="worker",
            containerDefinitions=[{"name": "worker", "image": "apache/airflow:3.3.2", "memory": 512}],
        )
        ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition="worker", desiredCount=0)
        yield session


def register_target(session: boto3.Session, low: int, high: int) -> None:
    session.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=resource_id(CLUSTER, SERVICE),
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=low,
        MaxCapacity=high,
    )


def desired_count(session: boto3.Session) -> int:
    service = session.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return int(service["desiredCount"])


def make_controller(db, session: boto3.Session, tmp_path, clock: Clock, lines: list[str]) -> Controller:  # type: ignore[no-untyped-def]
    pools = {"default": PoolTarget("default", SERVICE, CLUSTER, concurrency=8, min_workers=0, max_workers=5)}
    settings = AutoscalerConfig(poll_seconds=5, scale_in_grace_seconds=GRACE)  # type: ignore[call-arg]
    metrics = MetricsPublisher(
        session.client("cloudwatch"), "Airflow/Workers", "DeployAirflowOnECSFargate", CLUSTER, 60
    )
    return Controller(
        pools,
        settings,
        create_engine(db.url),
        EcsBackend(pools, session=session),
        metrics=metrics,
        state_file=tmp_path / "state.json",
        clock=clock,
        emit=lines.append,
    )


def test_queued_tasks_raise_the_desired_count_and_idle_returns_to_zero_after_grace(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    register_target(aws, 0, 10)
    clock, lines = Clock(), []
    controller = make_controller(db, aws, tmp_path, clock, lines)
    assert controller.poll()[0].action == "hold"
    assert desired_count(aws) == 0

    ids = metadata.add_task_instances(db.engine, "queued", 12)
    status = controller.poll()[0]
    assert (status.action, status.desired, status.queued) == ("scale_out", 2, 12)
    assert desired_count(aws) == 2
    assert status.applied == f"UpdateService {SERVICE} desiredCount=2"

    metadata.set_state(db.engine, ids, "success")
    clock.now += 5
    assert controller.poll()[0].action == "wait"
    clock.now += GRACE - 10
    assert controller.poll()[0].action == "wait"
    assert desired_count(aws) == 2
    clock.now += 10
    status = controller.poll()[0]
    assert (status.action, status.desired) == ("scale_in", 0)
    assert desired_count(aws) == 0

    # Every decision is one JSON line the CLI can parse; the state file holds the last one.
    decisions = [parse_decision_line(line) for line in lines]
    assert [d.action for d in decisions if d] == ["hold", "scale_out", "wait", "wait", "scale_in"]
    pools, _ = read_state(tmp_path / "state.json")
    assert pools["default"].action == "scale_in"


def test_database_outage_never_scales_in(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock, lines = Clock(), []
    controller = make_controller(db, aws, tmp_path, clock, lines)
    ids = metadata.add_task_instances(db.engine, "running", 9, hostnames=["a", "b"])
    assert controller.poll()[0].desired == 2
    metadata.set_state(db.engine, ids, "success")
    clock.now += 5
    assert controller.poll()[0].action == "wait"  # the grace period starts

    db.stop()  # the real server goes away
    for _ in range(3):
        clock.now += GRACE
        status = controller.poll()[0]
        assert status.action == "unknown" and status.desired is None
        assert status.error and status.error.startswith("metadata DB: OperationalError")
    assert desired_count(aws) == 2
    assert controller.next_delay() > 5  # backing off
    db.start()

    # Back: the grace period starts again instead of counting the outage as idle time.
    clock.now += 5
    assert controller.poll()[0].action == "wait"
    assert desired_count(aws) == 2
    assert controller.next_delay() == 5


def test_scheduled_action_bounds_cap_the_scale_out(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    register_target(aws, 0, 1)  # e.g. a night schedule lowered the max to 1
    controller = make_controller(db, aws, tmp_path, Clock(), [])
    metadata.add_task_instances(db.engine, "queued", 30)
    status = controller.poll()[0]
    assert (status.action, status.desired) == ("scale_out", 1)
    assert desired_count(aws) == 1


def test_aws_error_keeps_the_pool_as_it_is(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    controller = make_controller(db, aws, tmp_path, Clock(), [])
    aws.client("ecs").delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    metadata.add_task_instances(db.engine, "queued", 3)
    status = controller.poll()[0]
    assert status.action == "unknown" and status.error and status.error.startswith("ecs:")


def test_metrics_include_the_seed_names(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    controller = make_controller(db, aws, tmp_path, Clock(), [])
    metadata.add_task_instances(db.engine, "queued", 4)
    controller.poll()
    assert controller.metrics is not None and controller.metrics.flush() > 0
    cloudwatch = aws.client("cloudwatch")
    ours = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="Airflow/Workers")["Metrics"]}
    assert ours == {"DesiredWorkers", "CurrentWorkers", "BusyWorkers", "QueuedTasks", "RunningTasks"}
    seed = cloudwatch.list_metrics(Namespace="DeployAirflowOnECSFargate")["Metrics"]
    assert {m["MetricName"] for m in seed} == {"CapacityProviderReservation", "NumberOfActiveRunningTasks"}
    assert all(m["Dimensions"] == [{"Name": "ClusterName", "Value": CLUSTER}] for m in seed)


def test_deployment_in_progress_is_detected() -> None:
    assert _deployment_in_progress({"deployments": [{"rolloutState": "COMPLETED"}]}) is None
    assert _deployment_in_progress({"deployments": [{"rolloutState": "IN_PROGRESS"}]})
    assert _deployment_in_progress({"deployments": [{"rolloutState": "COMPLETED"}, {"rolloutState": "COMPLETED"}]})


def test_decision_lines_are_json() -> None:
    assert parse_decision_line("not json") is None
    assert parse_decision_line(json.dumps({"event": "other"})) is None


def test_stopping_the_controller_lowers_pools_to_their_floor(db, aws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Nothing may run unobserved: when the controller's task stops, workers go to the lower bound.
    register_target(aws, 1, 10)  # e.g. an office-hours schedule keeps one worker
    controller = make_controller(db, aws, tmp_path, Clock(), [])
    metadata.add_task_instances(db.engine, "queued", 20)
    controller.poll()
    assert desired_count(aws) == 3
    controller.backend.close()
    assert desired_count(aws) == 1
