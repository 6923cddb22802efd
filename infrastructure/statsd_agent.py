"""statsd: a CloudWatch agent sidecar that forwards Airflow's statsd metrics to CloudWatch.

Airflow sends statsd over UDP to localhost:8125 (tasks in ``awsvpc`` mode share localhost with
their sidecars). Only the metrics in ``airflow.statsd_allow_list`` leave Airflow
(``[metrics] metrics_allow_list``): per-DAG and per-task metrics would each be a paid CloudWatch
custom metric ($0.30/month each). The agent drops the ``host`` dimension so a metric survives
task replacements (one time series instead of one per task).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-custom-metrics-statsd.html
https://airflow.apache.org/docs/apache-airflow/stable/administration-and-deployment/logging-monitoring/metrics.html
"""

from __future__ import annotations

import json

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs

from deploy_airflow_on_ecs_fargate.config import Settings

STATSD_PORT = 8125
CONTAINER_NAME = "cloudwatch-agent"
# statsd metric names carry Airflow's prefix ([metrics] statsd_prefix).
METRIC_PREFIX = "airflow"


def agent_configuration(settings: Settings) -> str:
    """The agent's JSON configuration (passed in CW_CONFIG_CONTENT)."""
    return json.dumps(
        {
            "agent": {"omit_hostname": True},
            "metrics": {
                "namespace": settings.observability.statsd_namespace,
                "metrics_collected": {
                    "statsd": {
                        "service_address": f":{STATSD_PORT}",
                        "metrics_collection_interval": 10,
                        # One data point a minute per metric: standard resolution is the cheap one.
                        "metrics_aggregation_interval": 60,
                    }
                },
            },
        },
        sort_keys=True,
    )


def add_statsd_agent(task_definition: ecs.TaskDefinition, settings: Settings, log_group: logs.ILogGroup) -> None:
    task_definition.add_container(
        CONTAINER_NAME,
        image=ecs.ContainerImage.from_registry(settings.observability.cloudwatch_agent_image),
        # Losing metrics must not stop Airflow: the sidecar is not essential.
        essential=False,
        memory_reservation_mib=64,
        environment={"CW_CONFIG_CONTENT": agent_configuration(settings)},
        port_mappings=[ecs.PortMapping(container_port=STATSD_PORT, protocol=ecs.Protocol.UDP)],
        logging=ecs.LogDrivers.aws_logs(stream_prefix=CONTAINER_NAME, log_group=log_group),
    )
    task_definition.add_to_task_role_policy(
        iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            # PutMetricData has no resource-level permissions; the namespace condition scopes it.
            # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": settings.observability.statsd_namespace}},
        )
    )
