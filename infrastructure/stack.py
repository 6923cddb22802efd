"""The whole environment as one CloudFormation stack, composed from the component modules.

Order matters only where a value is needed: the load balancer comes first (every Airflow
container needs the public URL), then the shared runtime (image, settings, secrets), then the
services; the scheduler comes after the workers because its autoscaler sidecar may only scale
their services. The outputs are the contract with the CLI (``stack_outputs.py``).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnOutput, Environment, Fn, Stack, Tags
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from deploy_airflow_on_ecs_fargate import stack_outputs
from deploy_airflow_on_ecs_fargate.airflow_settings import API_SERVER_PORT, Endpoints, airflow_environment
from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure import workers as workers_module
from infrastructure.airflow_container import AirflowRuntime, database_environment, secret_environment
from infrastructure.airflow_secrets import AirflowSecrets
from infrastructure.api_server import CLOUD_MAP_NAME, ApiServer, PublicLoadBalancer
from infrastructure.broker import Broker
from infrastructure.cluster import AirflowCluster, namespace_name
from infrastructure.dag_processor import DagProcessor
from infrastructure.ecr import AirflowImage
from infrastructure.log_bucket import TASK_LOGS_PREFIX, LogBucket
from infrastructure.log_delivery import LogDelivery
from infrastructure.log_groups import log_group_name
from infrastructure.metadata_db import DATABASE_NAME, MetadataDatabase
from infrastructure.nag import acknowledge_stack_findings
from infrastructure.network import Network
from infrastructure.observability import Observability, ObservedResources
from infrastructure.scheduled_scaling import ControlPlaneService, ScheduledScaling
from infrastructure.scheduler import Scheduler
from infrastructure.standalone_task import StandaloneTask
from infrastructure.triggerer import Triggerer
from infrastructure.workers import WorkerPoolService


def repository_only(scope: Construct) -> bool:
    """``cdk deploy -c ecsflow:repository-only=true``: a stack holding only the ECR repository."""
    value = scope.node.try_get_context(stack_outputs.REPOSITORY_ONLY_CONTEXT)
    return value is True or str(value).lower() == "true"


def execution_api_url(settings: Settings) -> str:
    """Private URL of the api-server (Cloud Map DNS inside the VPC): workers never leave the VPC for it."""
    return f"http://{CLOUD_MAP_NAME}.{namespace_name(settings)}:{API_SERVER_PORT}"


class AirflowStack(Stack):
    def __init__(self, scope: Construct, *, settings: Settings, **kwargs: Any) -> None:
        aws = settings.aws
        super().__init__(
            scope,
            settings.stack_name,
            stack_name=settings.stack_name,
            env=Environment(account=aws.account, region=aws.region),
            description=f"Apache Airflow on Amazon ECS Fargate ({settings.environment})",
            **kwargs,
        )
        Tags.of(self).add("ecsflow:environment", settings.environment)
        self.settings = settings

        image = AirflowImage(self, "Image", settings=settings)
        if repository_only(self):
            # First deploy when `ecsflow deploy` builds the image: only the repository (same construct
            # id, so the full stack later keeps it), so the image exists before any service needs it.
            if image.repository is None:
                raise ValueError(
                    f"{stack_outputs.REPOSITORY_ONLY_CONTEXT} needs the stack's ECR repository, "
                    "but aws.image_uri is set"
                )
            self._output(stack_outputs.ECR_REPOSITORY_URI, image.repository.repository_uri, "Push the image here")
            return
        network = Network(self, "Network", settings=settings)
        cluster = AirflowCluster(self, "Cluster", settings=settings, vpc=network.vpc)
        log_bucket = LogBucket(self, "LogBucket", settings=settings)
        log_delivery = LogDelivery(self, "LogDelivery", settings=settings, bucket=log_bucket.bucket)
        broker = Broker(self, "Broker", settings=settings)
        database = MetadataDatabase(
            self,
            "MetadataDb",
            settings=settings,
            vpc=network.vpc,
            subnets=network.database_subnets,
            security_group=network.database_sg,
        )
        secrets = AirflowSecrets(self, "Secrets", settings=settings)
        load_balancer = PublicLoadBalancer(
            self,
            "Ui",
            settings=settings,
            vpc=network.vpc,
            security_group=network.load_balancer_sg,
            log_bucket=log_bucket.bucket,
        )

        endpoints = Endpoints(
            api_server_url=execution_api_url(settings),
            public_url=load_balancer.public_url,
            log_bucket=log_bucket.bucket.bucket_name,
            celery_queue_urls=broker.queue_urls,
        )
        runtime = AirflowRuntime(
            settings=settings,
            image=image.image,
            cluster=cluster.cluster,
            placement=network.tasks,
            environment={
                **airflow_environment(settings, endpoints),
                **database_environment(
                    host=database.instance.db_instance_endpoint_address,
                    port=database.instance.db_instance_endpoint_port,
                    name=DATABASE_NAME,
                ),
            },
            secrets=secret_environment(
                fernet_key=ecs.Secret.from_secrets_manager(secrets.fernet_key),
                jwt_secret=ecs.Secret.from_secrets_manager(secrets.jwt_secret),
                api_secret_key=ecs.Secret.from_secrets_manager(secrets.api_secret_key),
                db_username=ecs.Secret.from_secrets_manager(database.secret, "username"),
                db_password=ecs.Secret.from_secrets_manager(database.secret, "password"),
            ),
            log_bucket=log_bucket.bucket,
            log_stream=log_delivery.stream,
            image_repository=image.pull_from,
        )

        api_server = ApiServer(
            self, "ApiServer", runtime=runtime, load_balancer=load_balancer, security_group=network.api_server_sg
        )
        worker_pools = [
            WorkerPoolService(
                self,
                f"Worker-{pool.name}",
                runtime=runtime,
                pool=pool,
                queue=broker.queues[pool.name],
                security_group=network.components_sg,
            )
            for pool in settings.worker_pools
        ]
        # The Execution API must be reachable before a worker takes a task; the scheduler sends to the queues.
        scheduler = Scheduler(
            self, "Scheduler", runtime=runtime, security_group=network.components_sg, workers=worker_pools
        )
        for queue in broker.queues.values():
            queue.grant_send_messages(scheduler.task.task_definition.task_role)
        dag_processor = DagProcessor(self, "DagProcessor", runtime=runtime, security_group=network.components_sg)
        triggerer = Triggerer(self, "Triggerer", runtime=runtime, security_group=network.components_sg)
        standalone = StandaloneTask(self, "Standalone", runtime=runtime)

        control_plane = [
            ControlPlaneService("api-server", api_server.service, settings.api_server),
            ControlPlaneService("scheduler", scheduler.service, settings.scheduler),
            ControlPlaneService("dag-processor", dag_processor.service, settings.dag_processor),
            ControlPlaneService("triggerer", triggerer.service, settings.triggerer),
        ]
        ScheduledScaling(self, "Scaling", settings=settings, control_plane=control_plane, workers=worker_pools)
        services = {item.key: item.service for item in control_plane}
        services.update({workers_module.component(worker.pool): worker.service for worker in worker_pools})
        Observability(
            self,
            "Observability",
            settings=settings,
            resources=ObservedResources(
                services=services,
                queues=dict(broker.queues),
                load_balancer=load_balancer.load_balancer,
                target_group=api_server.target_group,
                database=database.instance,
            ),
        )

        # --- outputs: the CLI's only source of names (stack_outputs.py) ---
        self._output(stack_outputs.UI_URL, load_balancer.public_url, "Airflow UI")
        self._output(stack_outputs.CLUSTER_NAME, cluster.cluster.cluster_name, "ECS cluster")
        for item in control_plane:
            self._output(stack_outputs.SERVICE_OUTPUTS[item.key], item.service.service_name, f"{item.key} service")
        self._output(
            stack_outputs.WORKER_SERVICES,
            self.to_json_string({worker.pool.name: worker.service.service_name for worker in worker_pools}),
            "Worker service of each pool (JSON)",
        )
        self._output(
            stack_outputs.LOG_GROUPS,
            # Literal names (they are fixed): plain JSON, readable in the console.
            json.dumps(
                {key: log_group_name(settings, key) for key in [*runtime.log_groups, "ecs-exec"]}, sort_keys=True
            ),
            "Log group of each component (JSON)",
        )
        self._output(stack_outputs.LOG_BUCKET, log_bucket.bucket.bucket_name, "Task logs and Firehose output")
        self._output(stack_outputs.BROKER_QUEUE_URLS, self.to_json_string(broker.queue_urls), "SQS queue of each pool")
        if image.repository is not None:
            self._output(stack_outputs.ECR_REPOSITORY_URI, image.repository.repository_uri, "Push the image here")
        self._output(stack_outputs.IMAGE_URI, image.image_uri, "Image every task runs")
        self._output(
            stack_outputs.STANDALONE_TASK_DEFINITION,
            standalone.task_definition.task_definition_arn,
            "One-off task template (ecsflow run-task)",
        )
        self._output(stack_outputs.STANDALONE_CONTAINER, standalone.container_name, "Container to override")
        subnet_ids = network.vpc.select_subnets(subnet_type=network.tasks.subnets.subnet_type).subnet_ids
        self._output(stack_outputs.STANDALONE_SUBNETS, Fn.join(",", subnet_ids), "Subnets for one-off tasks")
        self._output(
            stack_outputs.STANDALONE_SECURITY_GROUP, network.components_sg.security_group_id, "SG for one-off tasks"
        )
        self._output(
            stack_outputs.STANDALONE_ASSIGN_PUBLIC_IP,
            "ENABLED" if network.tasks.assign_public_ip else "DISABLED",
            "Public IP for one-off tasks (no NAT)",
        )
        self._output(
            stack_outputs.AUTOSCALER_STATE_PARAMETER,
            scheduler.autoscaler.log_group.log_group_name,
            "Autoscaler decisions log",
        )
        acknowledge_stack_findings(
            self,
            settings,
            log_bucket=log_bucket.bucket,
            exec_log_group=cluster.exec_log_group,
            cluster=cluster.cluster,
            task_logs_prefix=TASK_LOGS_PREFIX,
        )

    def _output(self, name: str, value: str, description: str) -> None:
        CfnOutput(self, name, value=value, description=description)
