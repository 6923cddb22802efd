"""The standalone dag-processor service: parses DAG files (mandatory in Airflow 3).

Health: ``airflow jobs check`` for this host's DagProcessorJob heartbeat.
https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/dagfile-processing.html
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from infrastructure.airflow_container import WAIT_FOR_MIGRATIONS, AirflowRuntime, airflow_service, airflow_task

COMPONENT = "dag-processor"


def jobs_check(job_type: str) -> ecs.HealthCheck:
    """``airflow jobs check`` of this task's own job (``--local``): fails when its heartbeat is stale."""
    return ecs.HealthCheck(
        command=["CMD-SHELL", f"airflow jobs check --job-type {job_type} --local || exit 1"],
        interval=Duration.seconds(60),
        timeout=Duration.seconds(30),
        retries=3,
        start_period=Duration.seconds(180),
    )


class DagProcessor(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, runtime: AirflowRuntime, security_group: ec2.ISecurityGroup
    ) -> None:
        super().__init__(scope, construct_id)
        config = runtime.settings.dag_processor
        self.task = airflow_task(
            self,
            runtime,
            component=COMPONENT,
            size=config,
            command=["dag-processor"],
            init=WAIT_FOR_MIGRATIONS,
            health_check=jobs_check("DagProcessorJob"),
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
