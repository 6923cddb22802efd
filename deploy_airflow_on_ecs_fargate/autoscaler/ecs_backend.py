"""ECS backend: a pool is an ECS service; the controller sets its desiredCount directly.

- DescribeServices gives the current desiredCount and whether a deployment is rolling out;
  scale-in waits while one is (ECS replaces tasks then, and lowering the count at the same
  time would fight it). Scale-out still goes through: queued tasks should not wait for a deploy.
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
- DescribeScalableTargets gives the Application Auto Scaling bounds of the service; scheduled
  actions (e.g. night/weekend) change them, and the decision clamps to them so they win.
  https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html
- UpdateService(desiredCount) applies. Workers hold ECS task scale-in protection while they run
  tasks (task_protection.py), so even a lower count never stops a busy worker:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection.html
- "Busy workers" = distinct hosts running this queue's tasks (each Fargate task has its own
  hostname, which Airflow records on the task instance).

botocore's standard retry mode retries throttling and 5xx with exponential backoff; errors that
remain propagate to the controller, which keeps the pool as it is and backs off.
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget, WorkerCount

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_ecs import ECSClient

log = logging.getLogger(__name__)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=10)


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


@dataclass
class EcsBackend:
    pools: dict[str, PoolTarget]
    session: boto3.Session = field(default_factory=boto3.Session)
    name = "ecs"

    def __post_init__(self) -> None:
        missing = [p.name for p in self.pools.values() if not p.service or not p.cluster]
        if missing:
            raise ValueError(f"pools without an ECS service or cluster: {', '.join(missing)}")
        self.ecs: ECSClient = self.session.client("ecs", config=RETRIES)
        self.scaling: ApplicationAutoScalingClient = self.session.client("application-autoscaling", config=RETRIES)

    def observe(self, pool: str, busy_hosts: int) -> WorkerCount:
        target = self.pools[pool]
        found = self.ecs.describe_services(cluster=target.cluster, services=[target.service])
        if not found["services"]:
            failure = found.get("failures", [{}])[0].get("reason", "not found")
            raise LookupError(f"ECS service {target.service} in {target.cluster}: {failure}")
        service = found["services"][0]
        if service.get("status") != "ACTIVE":  # a deleted service stays visible as INACTIVE for a while
            raise LookupError(f"ECS service {target.service} is {service.get('status')}")
        blocked = _deployment_in_progress(service)
        low, high = self._bounds(target)
        return WorkerCount(
            current=int(service.get("desiredCount", 0)),
            busy=busy_hosts,
            target_min=low,
            target_max=high,
            scale_in_blocked=blocked,
        )

    def _bounds(self, target: PoolTarget) -> tuple[int | None, int | None]:
        response = self.scaling.describe_scalable_targets(
            ServiceNamespace="ecs",
            ResourceIds=[resource_id(target.cluster, target.service)],
            ScalableDimension="ecs:service:DesiredCount",
        )
        targets = response.get("ScalableTargets", [])
        if not targets:
            return None, None  # not registered: only the pool's own min/max apply
        return int(targets[0]["MinCapacity"]), int(targets[0]["MaxCapacity"])

    def apply(self, pool: str, desired: int) -> str:
        target = self.pools[pool]
        self.ecs.update_service(cluster=target.cluster, service=target.service, desiredCount=desired)
        return f"UpdateService {target.service} desiredCount={desired}"

    def close(self) -> None:
        """The controller is stopping (its scheduler task is scaled in, e.g. at night): workers must
        not stay up unobserved, so every pool goes to its lower bound. Busy workers hold scale-in
        protection, so ECS stops only idle ones; the others finish their tasks first. When this is
        a rolling restart of the controller, the new one raises the count again at its first poll.
        """
        for name, target in self.pools.items():
            try:
                low, high = self._bounds(target)
                floor = max(target.min_workers, low or 0)
                floor = min(floor, high) if high is not None else floor
                current = self.observe(name, 0).current
                if current > floor:
                    log.info("stopping: %s", self.apply(name, floor))
            except Exception as error:  # best effort on the way out
                log.warning("stopping: could not lower %s: %s", target.service, error)


def _deployment_in_progress(service: Any) -> str | None:
    deployments = service.get("deployments", [])
    rolling = [d for d in deployments if d.get("rolloutState") == "IN_PROGRESS"]
    if len(deployments) > 1 or rolling:
        return f"deployment in progress ({len(deployments)} deployments)"
    return None
