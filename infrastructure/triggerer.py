"""The triggerer service: runs deferred tasks' triggers (asyncio), so workers need not wait.

Health: ``airflow jobs check`` for this host's TriggererJob heartbeat.
https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/deferring.html
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infrastructure.airflow_container import WAIT_FOR_MIGRATIONS, AirflowRuntime, airflow_service, airflow_task
from infrastructure.dag_processor import jobs_check

COMPONENT = "triggerer"


class Triggerer(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: AirflowRuntime, security_group: ec2.ISecurityGroup
    ) -> None:
        super().__init__(scope, construct_id)
        config = runtime.settings.triggerer
        self.task = airflow_task(
            self,
            runtime,
            component=COMPONENT,
            size=config,
            command=["triggerer"],
            init=WAIT_FOR_MIGRATIONS,
            health_check=jobs_check("TriggererJob"),
        )
        self.service = airflow_service(
            self,
            runtime,
            self.task,
            component=COMPONENT,
            desired_count=config.desired_count,
            capacity_provider=config.capacity_provider,
            security_group=security_group,
        )
