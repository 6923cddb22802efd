"""A fake deployed environment in moto (in-process): the resources the CLI reads, and a stack naming them.

moto's CloudFormation drops most ECS properties, so the ECS/SQS/Logs resources are created with
their own APIs and the stack (a WaitConditionHandle plus Outputs) only carries their names, the
way the CDK stack's outputs do (deploy_airflow_on_ecs_fargate/stack_outputs.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.moto_api import state_manager
from typer.testing import CliRunner

from deploy_airflow_on_ecs_fargate import stack_outputs as out
from deploy_airflow_on_ecs_fargate.cli.main import app

REGION = "eu-west-1"
ENVIRONMENT = "clitest"
STACK = f"{ENVIRONMENT}-stack"
CLUSTER = f"{ENVIRONMENT}-cluster"
CONTAINER = "airflow"
STANDALONE_LOG_GROUP = f"/{ENVIRONMENT}/standalone"
AUTOSCALER_LOG_GROUP = f"/{ENVIRONMENT}/autoscaler"
POOLS = ("default", "heavy")

CONFIG = f"""
environment: {ENVIRONMENT}
aws:
  region: {REGION}
  image_tag: v1
scheduler:
  cpu: 512
  memory_mib: 1024
  desired_count: 1
  max_count: 2
worker_pools:
  - name: default
    max_workers: 4
  - name: heavy
    max_workers: 2
    cpu: 2048
    memory_mib: 4096
scheduled_scaling:
  timezone: Europe/Lisbon
"""


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Fake credentials, a test config of our own, instant polling; nothing from the developer's AWS setup."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("ECSFLOW_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    config = tmp_path / "ecsflow.yaml"
    config.write_text(CONFIG)
    monkeypatch.setenv("ECSFLOW_CONFIG", str(config))
    monkeypatch.setenv("ECSFLOW_CLI__POLL_SECONDS", "0")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # the CLI never reads AMIs; saves time
    return config


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield
    state_manager.unset_transition("ecs::task")


@dataclass
class FakeStack:
    subnet: str
    security_group: str
    standalone_task_definition: str
    services: dict[str, str]
    queue_urls: dict[str, str]
    log_groups: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        return boto3.client(name, region_name=REGION)


def _register(ecs: Any, family: str, log_group: str, prefix: str, image: str = "repo/airflow:v1") -> str:
    return str(
        ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="512",
            memory="1024",
            containerDefinitions=[
                {
                    "name": CONTAINER,
                    "image": image,
                    "memory": 1024,
                    "essential": True,
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": log_group,
                            "awslogs-region": REGION,
                            "awslogs-stream-prefix": prefix,
                        },
                    },
                },
                {"name": "log-router", "image": "fluent-bit:3", "memory": 64, "essential": True},
            ],
        )["taskDefinition"]["taskDefinitionArn"]
    )


@pytest.fixture
def fake_stack(aws: None) -> FakeStack:
    return build_fake_stack()


def build_fake_stack() -> FakeStack:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # moto gives task ENIs a private DNS name only when the VPC has DNS hostnames on (as Fargate VPCs do).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    security_group = ec2.create_security_group(GroupName="standalone", Description="t", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName=CLUSTER, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    logs = boto3.client("logs", region_name=REGION)
    keys = ["api-server", "scheduler", "dag-processor", "triggerer", *(f"worker-{p}" for p in POOLS)]
    log_groups = {key: f"/{ENVIRONMENT}/{key}" for key in keys} | {"standalone": STANDALONE_LOG_GROUP}
    logs.create_log_group(logGroupName=AUTOSCALER_LOG_GROUP)
    for group in log_groups.values():
        logs.create_log_group(logGroupName=group)
    services = {}
    for key in keys:
        name = f"{ENVIRONMENT}-{key}"
        definition = _register(ecs, name, log_groups[key], key)
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=name,
            taskDefinition=definition,
            desiredCount=0 if key.startswith("worker-") else 1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [security_group]}},
        )
        services[key] = name
    standalone = _register(ecs, f"{ENVIRONMENT}-standalone", STANDALONE_LOG_GROUP, "standalone")
    sqs = boto3.client("sqs", region_name=REGION)
    queue_urls = {pool: sqs.create_queue(QueueName=f"{ENVIRONMENT}-{pool}")["QueueUrl"] for pool in POOLS}
    outputs = {
        out.UI_URL: "http://clitest-alb-123.eu-west-1.elb.amazonaws.com",
        out.CLUSTER_NAME: CLUSTER,
        out.API_SERVER_SERVICE: services["api-server"],
        out.SCHEDULER_SERVICE: services["scheduler"],
        out.DAG_PROCESSOR_SERVICE: services["dag-processor"],
        out.TRIGGERER_SERVICE: services["triggerer"],
        out.WORKER_SERVICES: json.dumps({pool: services[f"worker-{pool}"] for pool in POOLS}),
        out.LOG_GROUPS: json.dumps(log_groups),
        out.BROKER_QUEUE_URLS: json.dumps(queue_urls),
        out.ECR_REPOSITORY_URI: f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{ENVIRONMENT}/airflow",
        out.STANDALONE_TASK_DEFINITION: standalone,
        out.STANDALONE_CONTAINER: CONTAINER,
        out.STANDALONE_SUBNETS: subnet,
        out.STANDALONE_SECURITY_GROUP: security_group,
        out.STANDALONE_ASSIGN_PUBLIC_IP: "ENABLED",
        out.AUTOSCALER_STATE_PARAMETER: AUTOSCALER_LOG_GROUP,
    }
    create_stack(outputs)
    return FakeStack(subnet, security_group, standalone, services, queue_urls, log_groups, outputs)


def create_stack(outputs: dict[str, str], name: str = STACK) -> None:
    template = {
        "Resources": {"Marker": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{name}/marker"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def invoke(*args: str) -> Result:
    """Run ecsflow in-process (so moto's in-process mock applies), stdout and stderr apart."""
    result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    # A traceback is never an acceptable outcome: only SystemExit (typer.Exit) may end a command.
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr, result.exception)


@pytest.fixture
def cli() -> Any:
    return invoke


@dataclass
class TaskScript:
    """What the next tasks started in moto do: their exit code, log lines, and whether the container ran."""

    exit_code: int | None = 0
    log_lines: list[str] = field(default_factory=list)
    started: list[Any] = field(default_factory=list)


@pytest.fixture
def task_script(monkeypatch: pytest.MonkeyPatch) -> TaskScript:
    """Make moto's RunTask tasks behave like a real container: write log lines, stop with an exit code.

    moto moves a task RUNNING -> ... -> STOPPED over successive DescribeTasks calls but always
    reports exit code 0 and writes no logs; this sets both when the task is created.
    """
    from moto.ecs import models

    script = TaskScript()
    original = models.Task.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        script.started.append(self)
        for container in self.containers:
            container.exitCode = script.exit_code
        if script.exit_code is None:
            self.stopped_reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
        if script.log_lines:
            logs = boto3.client("logs", region_name=REGION)
            stream = f"standalone/{CONTAINER}/{self.id}"
            logs.create_log_stream(logGroupName=STANDALONE_LOG_GROUP, logStreamName=stream)
            now = int(__import__("time").time() * 1000)
            logs.put_log_events(
                logGroupName=STANDALONE_LOG_GROUP,
                logStreamName=stream,
                logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(script.log_lines)],
            )

    monkeypatch.setattr(models.Task, "__init__", init)
    return script
