"""The wiring every Airflow container shares, so the component modules only state what differs.

Each component (api-server, scheduler, dag-processor, triggerer, worker pool, one-off task) gets:
- the same Airflow settings as the local environment (``airflow_settings.airflow_environment``),
  plus the metadata DB endpoint;
- secrets injected by ECS from Secrets Manager (``secrets`` of the container definition: values
  never appear in the template); values Secrets Manager cannot template (DB URL, result backend,
  Fernet key padding) are composed in the container through Airflow's ``*_CMD`` settings
  (see ``deploy_airflow_on_ecs_fargate.ecs_secrets``);
- ``initProcessEnabled`` (an init process reaps the zombies ECS exec's agent leaves behind);
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-considerations
- a log group with retention (or FireLens to Firehose with ``aws.services_to_firehose``);
- a task role with read access to the SecretsManagerBackend prefixes and the task-log prefix;
- an ECS service with ECS exec, a deployment circuit breaker, and its capacity provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import Aws, Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from deploy_airflow_on_ecs_fargate import ecs_secrets
from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SECRET_KEY_VAR,
    DATABASE_URL_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
    RESULT_BACKEND_VAR,
)
from deploy_airflow_on_ecs_fargate.config import Settings, TaskSize
from infrastructure.log_bucket import TASK_LOGS_PREFIX
from infrastructure.log_groups import component_log_group
from infrastructure.network import TaskPlacement
from infrastructure.statsd_agent import add_statsd_agent

AIRFLOW_CONTAINER = "airflow"
LOG_ROUTER_CONTAINER = "log-router"

# Settings whose value is built in the container from injected fields (Airflow's *_CMD variants).
COMPOSED_SECRETS = {
    DATABASE_URL_VAR: "database-url",
    RESULT_BACKEND_VAR: "result-backend",
    FERNET_KEY_VAR: "fernet-key",
}
# Settings injected verbatim from a Secrets Manager secret.
DIRECT_SECRETS = (JWT_SECRET_VAR, API_SECRET_KEY_VAR)


@dataclass
class AirflowRuntime:
    """What every Airflow task of the stack shares (built once by the stack)."""

    settings: Settings
    image: ecs.ContainerImage
    cluster: ecs.ICluster
    placement: TaskPlacement
    environment: dict[str, str]
    secrets: dict[str, ecs.Secret]
    log_bucket: s3.IBucket
    log_stream: firehose.IDeliveryStream
    log_groups: dict[str, logs.ILogGroup] = field(default_factory=dict)
    # An ECR repository outside the stack holding ``image`` (aws.image_uri): execution roles pull from it.
    image_repository: ecr.IRepository | None = None

    @property
    def cpu_architecture(self) -> ecs.CpuArchitecture:
        arm = self.settings.aws.architecture == "ARM64"
        return ecs.CpuArchitecture.ARM64 if arm else ecs.CpuArchitecture.X86_64


def secret_environment(
    *,
    fernet_key: ecs.Secret,
    jwt_secret: ecs.Secret,
    api_secret_key: ecs.Secret,
    db_username: ecs.Secret,
    db_password: ecs.Secret,
) -> dict[str, ecs.Secret]:
    """The ``secrets`` of every Airflow container: variable name -> Secrets Manager secret (or JSON field)."""
    return {
        JWT_SECRET_VAR: jwt_secret,
        API_SECRET_KEY_VAR: api_secret_key,
        ecs_secrets.FERNET_KEY_BODY_VAR: fernet_key,
        ecs_secrets.DB_USERNAME_VAR: db_username,
        ecs_secrets.DB_PASSWORD_VAR: db_password,
    }


def database_environment(*, host: str, port: str, name: str) -> dict[str, str]:
    """Plain variables: the DB endpoint, and the *_CMD settings that compose the secret values."""
    env = {ecs_secrets.DB_HOST_VAR: host, ecs_secrets.DB_PORT_VAR: port, ecs_secrets.DB_NAME_VAR: name}
    for variable, command in COMPOSED_SECRETS.items():
        env[f"{variable}_CMD"] = ecs_secrets.command(command)
    return env


def grant_airflow_access(role: iam.IRole, runtime: AirflowRuntime) -> None:
    """What any Airflow process may need: SecretsManagerBackend reads and the task-log prefix."""
    prefix = runtime.settings.airflow.secrets_prefix
    role.add_to_principal_policy(
        iam.PolicyStatement(
            sid="SecretsManagerBackend",
            actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            resources=[
                f"arn:{Aws.PARTITION}:secretsmanager:{Aws.REGION}:{Aws.ACCOUNT_ID}:secret:{prefix}/{kind}/*"
                for kind in ("connections", "variables", "config")
            ],
        )
    )
    runtime.log_bucket.grant_read(role, f"{TASK_LOGS_PREFIX}/*")
    runtime.log_bucket.grant_put(role, f"{TASK_LOGS_PREFIX}/*")


def firelens_logging(
    task_definition: ecs.TaskDefinition, runtime: AirflowRuntime, router_log_group: logs.ILogGroup
) -> ecs.LogDriver:
    """Add a fluent-bit log router (FireLens) and return the log driver that sends to the Firehose stream.

    The router image is given explicitly: without one CDK looks it up from an SSM parameter.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/firelens-taskdef.html
    """
    task_definition.add_firelens_log_router(
        LOG_ROUTER_CONTAINER,
        image=ecs.ContainerImage.from_registry(runtime.settings.observability.fluent_bit_image),
        firelens_config=ecs.FirelensConfig(
            type=ecs.FirelensLogRouterType.FLUENTBIT,
            options=ecs.FirelensOptions(enable_ecs_log_metadata=True),
        ),
        essential=True,
        memory_reservation_mib=64,
        logging=ecs.LogDrivers.aws_logs(stream_prefix=LOG_ROUTER_CONTAINER, log_group=router_log_group),
    )
    runtime.log_stream.grant_put_records(task_definition.task_role)
    return ecs.LogDrivers.firelens(
        options={
            # fluent-bit's core Firehose output.
            # https://docs.fluentbit.io/manual/pipeline/outputs/firehose
            "Name": "kinesis_firehose",
            "region": runtime.settings.aws.region,
            "delivery_stream": runtime.log_stream.delivery_stream_name,
            "time_key": "timestamp",
            "time_key_format": "%Y-%m-%dT%H:%M:%S.%L%z",
        }
    )


@dataclass(frozen=True)
class InitContainer:
    """An Airflow command that must exit 0 before the component's container starts (ECS dependsOn SUCCESS)."""

    name: str
    command: list[str]


# The control plane needs a migrated metadata DB: on a first deploy the schema does not exist yet
# (and after an Airflow upgrade it is old), and a scheduler, dag-processor, triggerer or api-server
# started on it exits, so the ECS deployment circuit breaker fails the service and with it
# `cdk deploy` (CloudFormation waits for services to stabilise, before `ecsflow deploy` could run a
# one-off `db migrate`). So, as the official Helm chart does with its migration job and
# `wait-for-airflow-migrations` init containers, the scheduler task migrates first (`airflow db
# migrate` is idempotent and takes a database lock) and the other components wait until the schema
# (FAB's tables included) is at the image's version.
# https://airflow.apache.org/docs/apache-airflow/stable/howto/set-up-database.html
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
MIGRATE_DB = InitContainer("db-migrate", ["db", "migrate"])
MIGRATION_WAIT_SECONDS = 900
WAIT_FOR_MIGRATIONS = InitContainer(
    "wait-for-migrations", ["db", "check-migrations", "--migration-wait-timeout", str(MIGRATION_WAIT_SECONDS)]
)


@dataclass
class AirflowTask:
    task_definition: ecs.FargateTaskDefinition
    container: ecs.ContainerDefinition
    log_group: logs.LogGroup
    # The init container the component's containers wait for (see MIGRATE_DB), if any.
    init_container: ecs.ContainerDefinition | None = None

    def start_after_init(self, container: ecs.ContainerDefinition) -> None:
        """Make ``container`` (the component's, or a sidecar needing the DB) wait for the init container."""
        if self.init_container is not None:
            container.add_container_dependencies(
                ecs.ContainerDependency(
                    container=self.init_container, condition=ecs.ContainerDependencyCondition.SUCCESS
                )
            )


def airflow_task(
    scope: Construct,
    runtime: AirflowRuntime,
    *,
    component: str,
    size: TaskSize,
    command: list[str],
    extra_environment: Mapping[str, str] | None = None,
    health_check: ecs.HealthCheck | None = None,
    port: int | None = None,
    stop_timeout: Duration | None = None,
    statsd: bool = True,
    to_firehose: bool | None = None,
    init: InitContainer | None = None,
) -> AirflowTask:
    """A Fargate task definition running one Airflow component in the container named ``airflow``."""
    settings = runtime.settings
    log_group = component_log_group(scope, "Logs", settings, component)
    runtime.log_groups[component] = log_group
    task_definition = ecs.FargateTaskDefinition(
        scope,
        "TaskDefinition",
        family=f"{settings.environment}-{component}",
        cpu=size.cpu,
        memory_limit_mib=size.memory_mib,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=runtime.cpu_architecture, operating_system_family=ecs.OperatingSystemFamily.LINUX
        ),
    )
    if to_firehose is None:
        to_firehose = settings.aws.services_to_firehose
    logging = (
        firelens_logging(task_definition, runtime, log_group)
        if to_firehose
        else ecs.LogDrivers.aws_logs(stream_prefix=component, log_group=log_group)
    )
    container = task_definition.add_container(
        AIRFLOW_CONTAINER,
        image=runtime.image,
        command=command,
        environment={**runtime.environment, **(extra_environment or {})},
        secrets=runtime.secrets,
        logging=logging,
        health_check=health_check,
        essential=True,
        stop_timeout=stop_timeout,
        linux_parameters=ecs.LinuxParameters(scope, "LinuxParameters", init_process_enabled=True),
        port_mappings=[ecs.PortMapping(container_port=port, name=component)] if port else None,
    )
    init_container = None
    if init is not None:
        init_container = task_definition.add_container(
            init.name,
            image=runtime.image,
            command=init.command,
            environment={**runtime.environment, **(extra_environment or {})},
            secrets=runtime.secrets,
            logging=logging,
            # Runs to completion first; the component's containers depend on its exit code 0.
            essential=False,
        )
    task = AirflowTask(
        task_definition=task_definition, container=container, log_group=log_group, init_container=init_container
    )
    task.start_after_init(container)
    if statsd:
        add_statsd_agent(task_definition, settings, log_group)
    if runtime.image_repository is not None:
        runtime.image_repository.grant_pull(task_definition.obtain_execution_role())
    grant_airflow_access(task_definition.task_role, runtime)
    return task


def service_name(settings: Settings, component: str) -> str:
    return f"{settings.environment}-{component}"


def airflow_service(
    scope: Construct,
    runtime: AirflowRuntime,
    task: AirflowTask,
    *,
    component: str,
    desired_count: int,
    capacity_provider: str,
    security_group: ec2.ISecurityGroup,
    cloud_map_name: str | None = None,
    min_healthy_percent: int = 100,
    health_check_grace_period: Duration | None = None,
) -> ecs.FargateService:
    """The ECS service of a component, with ECS exec and a circuit breaker that rolls back failed deployments."""
    service = ecs.FargateService(
        scope,
        "Service",
        service_name=service_name(runtime.settings, component),
        cluster=runtime.cluster,
        task_definition=task.task_definition,
        desired_count=desired_count,
        capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider=capacity_provider, weight=1)],
        vpc_subnets=runtime.placement.subnets,
        assign_public_ip=runtime.placement.assign_public_ip,
        security_groups=[security_group],
        # `ecsflow exec` (aws ecs execute-command); sessions are logged by the cluster's configuration.
        enable_execute_command=True,
        circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        min_healthy_percent=min_healthy_percent,
        max_healthy_percent=200,
        propagate_tags=ecs.PropagatedTagSource.SERVICE,
        health_check_grace_period=health_check_grace_period,
        cloud_map_options=(
            ecs.CloudMapOptions(name=cloud_map_name, dns_ttl=Duration.seconds(10)) if cloud_map_name else None
        ),
    )
    # A service whose capacity provider strategy names FARGATE/FARGATE_SPOT may only be created once
    # the cluster's AWS::ECS::ClusterCapacityProviderAssociations exists, or CreateService fails with
    # "The specified capacity provider strategy cannot contain a capacity provider that is not
    # associated with the cluster". CDK adds that resource (under the cluster construct, by an
    # aspect at synthesis) but no DependsOn from the services, so CloudFormation may create them in
    # parallel on the first deploy. Depending on the cluster construct covers the association too
    # (only the service resource itself: its scalable target and Cloud Map entry need not wait).
    # https://github.com/aws/containers-roadmap/issues/631#issuecomment-816354807
    cast(ecs.CfnService, service.node.default_child).node.add_dependency(runtime.cluster)
    return service
