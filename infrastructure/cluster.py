"""The ECS cluster: FARGATE and FARGATE_SPOT capacity providers, ECS exec logging, Cloud Map namespace.

ECS exec sessions (``ecsflow exec``) are logged to a CloudWatch log group so every command typed in
a container is auditable.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-logging
The private DNS namespace lets workers reach the api-server's Task Execution API inside the VPC
(``http://api-server.<namespace>:8080``) instead of through the public load balancer.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.log_groups import component_log_group


def cluster_name(settings: Settings) -> str:
    return settings.environment


def namespace_name(settings: Settings) -> str:
    return f"{settings.environment}.internal"


class AirflowCluster(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        self.exec_log_group = component_log_group(self, "ExecLogs", settings, "ecs-exec")
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name(settings),
            vpc=vpc,
            enable_fargate_capacity_providers=True,
            container_insights_v2=(
                ecs.ContainerInsights.ENABLED if settings.aws.container_insights else ecs.ContainerInsights.DISABLED
            ),
            execute_command_configuration=ecs.ExecuteCommandConfiguration(
                logging=ecs.ExecuteCommandLogging.OVERRIDE,
                log_configuration=ecs.ExecuteCommandLogConfiguration(
                    cloud_watch_log_group=self.exec_log_group, cloud_watch_encryption_enabled=False
                ),
            ),
        )
        self.namespace = self.cluster.add_default_cloud_map_namespace(
            name=namespace_name(settings), type=servicediscovery.NamespaceType.DNS_PRIVATE, vpc=vpc
        )
