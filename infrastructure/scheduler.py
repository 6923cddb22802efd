"""The scheduler service (and, as its sidecar, the worker autoscaler: see autoscaler.py).

Health: Airflow 3's scheduler serves ``/health`` on port 8974 when
``[scheduler] enable_health_check`` is on; it fails when the scheduler's heartbeat is stale.
https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/logging-monitoring/check-health.html
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from infrastructure.airflow_container import MIGRATE_DB, AirflowRuntime, airflow_service, airflow_task
from infrastructure.autoscaler import WorkerAutoscaler
from infrastructure.workers import WorkerPoolService

COMPONENT = "scheduler"
HEALTH_CHECK_PORT = 8974


class Scheduler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: AirflowRuntime,
        security_group: ec2.ISecurityGroup,
        workers: list[WorkerPoolService],
    ) -> None:
        super().__init__(scope, construct_id)
        config = runtime.settings.scheduler
        self.task = airflow_task(
            self,
            runtime,
            component=COMPONENT,
            size=config,
            command=["scheduler"],
            # The one component that migrates the metadata DB before it starts (see MIGRATE_DB).
            init=MIGRATE_DB,
            extra_environment={
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(HEALTH_CHECK_PORT),
            },
            health_check=ecs.HealthCheck(
                command=["CMD-SHELL", f"curl --fail --silent http://localhost:{HEALTH_CHECK_PORT}/health || exit 1"],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(10),
                retries=5,
                start_period=Duration.seconds(120),
            ),
        )
        self.autoscaler = WorkerAutoscaler(self, "Autoscaler", runtime=runtime, host=self.task, workers=workers)
        self.service = airflow_service(
            self,
            runtime,
            self.task,
            component=COMPONENT,
            desired_count=config.desired_count,
            capacity_provider=config.capacity_provider,
            security_group=security_group,
        )
