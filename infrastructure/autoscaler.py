"""Where the worker autoscaler runs, and what it may do.

It runs as an essential sidecar container of the scheduler task: no extra task to pay for, and
"nothing runs without its controller" holds by construction: if the scheduler is stopped (by
hand or by a scheduled action) the controller stops with it, and the workers' scheduled actions
take them to zero at the same time (scheduled_scaling.py). If the controller crashes, ECS
replaces the whole scheduler task.

Its task-role permissions are exactly what the controller calls: UpdateService/DescribeServices
on the worker services only, DescribeScalableTargets (to respect min/max and scheduled actions;
it has no resource-level permissions), and PutMetricData limited to its namespaces by condition.
The metadata DB credentials come in as ECS secrets like for every Airflow container.
https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
"""

from __future__ import annotations

from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from constructs import Construct

from deploy_airflow_on_ecs_fargate import ecs_secrets
from deploy_airflow_on_ecs_fargate.airflow_settings import autoscaler_environment
from infrastructure.airflow_container import AirflowRuntime, AirflowTask, service_name
from infrastructure.cluster import cluster_name
from infrastructure.log_groups import component_log_group
from infrastructure.workers import WorkerPoolService, component

CONTAINER_NAME = "autoscaler"
COMPONENT = "autoscaler"
# The controller reads AIRFLOW__DATABASE__SQL_ALCHEMY_CONN itself (not through Airflow's config),
# so ecs_secrets composes it from the injected RDS secret fields first.
COMMAND = [
    *ecs_secrets.exec_prefix(),
    "python",
    "-m",
    "deploy_airflow_on_ecs_fargate.autoscaler",
    "run",
    "--backend",
    "ecs",
]


class WorkerAutoscaler(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        runtime: AirflowRuntime,
        host: AirflowTask,
        workers: list[WorkerPoolService],
    ) -> None:
        super().__init__(scope, construct_id)
        settings = runtime.settings
        self.log_group = component_log_group(self, "Logs", settings, COMPONENT)
        runtime.log_groups[COMPONENT] = self.log_group
        # Literal names (not tokens): the pools JSON stays readable in the console and needs no Fn::Join.
        services = {worker.pool.name: service_name(settings, component(worker.pool)) for worker in workers}
        self.container = host.task_definition.add_container(
            CONTAINER_NAME,
            image=runtime.image,
            command=COMMAND,
            environment={
                **runtime.environment,
                **autoscaler_environment(settings, cluster=cluster_name(settings), service_names=services),
            },
            secrets=runtime.secrets,
            essential=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=COMPONENT, log_group=self.log_group),
            linux_parameters=ecs.LinuxParameters(self, "LinuxParameters", init_process_enabled=True),
        )
        # It reads task instances: like the scheduler, it starts once the DB is migrated.
        host.start_after_init(self.container)
        role = host.task_definition.task_role
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ScaleWorkerServices",
                actions=["ecs:UpdateService", "ecs:DescribeServices"],
                resources=[worker.service.service_arn for worker in workers],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadScalingBounds",
                actions=[
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:DescribeScheduledActions",
                ],
                resources=["*"],
            )
        )
        autoscaler = settings.autoscaler
        namespaces = [autoscaler.metrics_namespace]
        if autoscaler.seed_metrics_namespace:
            namespaces.append(autoscaler.seed_metrics_namespace)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PublishAutoscalerMetrics",
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": namespaces}},
            )
        )
