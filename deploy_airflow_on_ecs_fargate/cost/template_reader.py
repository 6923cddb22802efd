"""Read what costs money out of a synthesized CloudFormation template.

The estimate follows the template, not the configuration: task sizes and architecture come from
the task definitions, counts and capacity providers from the services, night/weekend schedules
from the scalable targets, and so on. Services are named through the stack's outputs (the
contract in ``stack_outputs.py``); a service no output names is still priced, under its logical ID.
Resource types this module does not know are listed as "not priced", never silently dropped.

CloudFormation resource reference:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-template-resource-type-ref.html
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from deploy_airflow_on_ecs_fargate import stack_outputs
from deploy_airflow_on_ecs_fargate.airflow_settings import AUTOSCALER_SETTINGS_VAR
from deploy_airflow_on_ecs_fargate.cost.schedule import ScheduledAction

Architecture = Literal["ARM64", "X86_64"]

# Environment variables the stack sets from airflow_settings.py; read back here so the estimate
# sees what the containers will really run with.
CONCURRENCY_VAR = "AIRFLOW__CELERY__WORKER_CONCURRENCY"
LOG_LEVEL_VAR = "AIRFLOW__LOGGING__LOGGING_LEVEL"
ALLOW_LIST_VAR = "AIRFLOW__METRICS__METRICS_ALLOW_LIST"
STATSD_ON_VAR = "AIRFLOW__METRICS__STATSD_ON"
DEFAULT_QUEUE_VAR = "AIRFLOW__OPERATORS__DEFAULT_QUEUE"
# The CloudWatch agent sidecar (statsd -> CloudWatch) reads its configuration from this variable.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/deploy_servicelens_CloudWatch_agent_deploy_ECS.html
AGENT_CONFIG_VAR = "CW_CONFIG_CONTENT"

# Container images pushed by CDK (DockerImageAsset) land in the bootstrap repository, not in a
# repository of the stack. https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html
_CDK_ASSETS_REPOSITORY = "cdk-hnb659fds-container-assets"

# Resource types that cost nothing by themselves (or are priced through another resource, e.g.
# task definitions through their services and log groups through the log volume).
FREE_TYPES = frozenset(
    {
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::CDK::Metadata",
        "AWS::EC2::EIP",  # priced as a public IPv4 address
        "AWS::EC2::InternetGateway",
        "AWS::EC2::Route",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::ECS::Cluster",
        "AWS::ECS::ClusterCapacityProviderAssociations",
        "AWS::ECS::TaskDefinition",
        "AWS::ElasticLoadBalancingV2::Listener",
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "AWS::Events::Rule",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::Lambda::Permission",
        "AWS::Logs::LogGroup",
        "AWS::Logs::LogStream",
        "AWS::Logs::SubscriptionFilter",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBSubnetGroup",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SSM::Parameter",
        "AWS::SecretsManager::SecretTargetAttachment",
        "AWS::ServiceDiscovery::HttpNamespace",
        "AWS::ServiceDiscovery::Service",
    }
)
# Lambda functions of CDK custom resources run a few times per deployment: fractions of a cent.
_NEGLIGIBLE_TYPES = frozenset({"AWS::Lambda::Function", "AWS::Lambda::LayerVersion"})
PRICED_TYPES = frozenset(
    {
        "AWS::ECS::Service",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::EC2::NatGateway",
        "AWS::EC2::VPCEndpoint",
        "AWS::RDS::DBInstance",
        "AWS::SecretsManager::Secret",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::KinesisFirehose::DeliveryStream",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::ECR::Repository",
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
    }
)


class TemplateError(ValueError):
    """The template holds something the estimate cannot read; the message names the resource."""


@dataclass(frozen=True)
class TaskSize:
    cpu_units: int
    memory_mib: int
    architecture: Architecture
    ephemeral_storage_gib: int = 20

    @property
    def vcpu(self) -> float:
        return self.cpu_units / 1024

    @property
    def memory_gb(self) -> float:
        return self.memory_mib / 1024


@dataclass(frozen=True)
class CapacityShare:
    """How a service's tasks split between FARGATE and FARGATE_SPOT (capacity provider strategy)."""

    spot_weight: int = 0
    on_demand_weight: int = 1
    spot_base: int = 0
    on_demand_base: int = 0

    def spot_fraction(self, tasks: float) -> float:
        """Share of ``tasks`` running on Spot: the bases are filled first, then the weights apply.

        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html
        """
        total_weight = self.spot_weight + self.on_demand_weight
        weight_share = self.spot_weight / total_weight if total_weight else 0.0
        if tasks <= 0:
            return weight_share
        base = self.spot_base + self.on_demand_base
        if tasks <= base:
            return min(self.spot_base, tasks) / tasks
        return (self.spot_base + (tasks - base) * weight_share) / tasks

    @property
    def label(self) -> str:
        if self.spot_weight and not self.on_demand_weight and not self.on_demand_base:
            return "Spot"
        if not self.spot_weight and not self.spot_base:
            return "on-demand"
        return f"Spot {self.spot_weight}:{self.on_demand_weight} on-demand"


@dataclass(frozen=True)
class LogDestinations:
    """Where a service's container logs go: CloudWatch log groups (their retention) and/or Firehose."""

    cloudwatch: bool = False
    retention_days: int | None = None  # the longest retention of its groups; None: never expires
    firehose: bool = False


@dataclass(frozen=True)
class Service:
    logical_id: str
    name: str  # "api-server", "worker-default", or the logical ID when no output names it
    task: TaskSize
    desired_count: int
    capacity: CapacityShare
    public_ip: bool
    log_level: str | None
    pool: str | None = None  # the Celery queue, for worker services
    concurrency: int | None = None
    min_capacity: int | None = None  # the scalable target's MinCapacity
    max_capacity: int | None = None
    scheduled_actions: tuple[ScheduledAction, ...] = ()
    metrics_agent: bool = False  # runs the CloudWatch agent sidecar (one PutMetricData a minute)
    logs: LogDestinations = field(default_factory=LogDestinations)

    @property
    def is_worker(self) -> bool:
        return self.concurrency is not None

    @property
    def baseline_count(self) -> int:
        """Tasks outside any schedule: the desired count raised to the scalable target's minimum."""
        count = self.desired_count
        if self.min_capacity is not None:
            count = max(count, self.min_capacity)
        if self.max_capacity is not None:
            count = min(count, self.max_capacity)
        return count


@dataclass(frozen=True)
class LoadBalancer:
    logical_id: str
    kind: str  # application | network | gateway
    internet_facing: bool
    availability_zones: int


@dataclass(frozen=True)
class Database:
    logical_id: str
    instance_class: str
    storage_gib: int
    storage_type: str
    multi_az: bool
    publicly_accessible: bool


@dataclass(frozen=True)
class VpcEndpoint:
    logical_id: str
    kind: str  # Interface | Gateway
    availability_zones: int


@dataclass(frozen=True)
class Autoscaler:
    """The worker autoscaler's CloudWatch publishing, from its container environment.

    It manages every worker service, so its per-pool metrics follow the worker services.
    """

    namespaces: int  # its own, plus the seed's when seed_metrics_namespace is set
    period_seconds: int


@dataclass(frozen=True)
class StackResources:
    """Everything in the template that the estimate prices."""

    services: tuple[Service, ...]
    load_balancers: tuple[LoadBalancer, ...]
    nat_gateways: int
    elastic_ips: int
    databases: tuple[Database, ...]
    secrets: int
    alarm_metrics: int
    dashboards: int
    statsd_allow_list: tuple[str, ...]
    firehose_streams: int
    buckets: int
    bucket_expiration_days: tuple[int | None, ...]
    queues: int
    vpc_endpoints: tuple[VpcEndpoint, ...]
    ecr_repositories: int
    ecr_images_kept: int | None  # from the lifecycle policy; None when nothing expires images
    uses_cdk_asset_images: bool
    kms_keys: int
    private_dns_namespaces: int
    container_insights: bool
    default_queue: str | None
    autoscaler: Autoscaler | None = None
    not_priced: dict[str, int] = field(default_factory=dict)

    @property
    def workers(self) -> tuple[Service, ...]:
        return tuple(service for service in self.services if service.is_worker)

    def worker(self, pool: str | None = None) -> Service:
        """The worker service of ``pool``, or of Airflow's default queue, or the first one."""
        workers = self.workers
        if not workers:
            raise TemplateError("the template has no Celery worker service (no container sets worker concurrency)")
        wanted = pool or self.default_queue
        for worker in workers:
            if worker.pool == wanted:
                return worker
        if pool is not None:
            known = ", ".join(str(worker.pool) for worker in workers)
            raise TemplateError(f"no worker pool named {pool!r} in the stack (pools: {known})")
        return workers[0]


def _referenced_ids(node: Any) -> set[str]:
    """Logical IDs a value points at through Ref or Fn::GetAtt."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else str(value).split(".", 1)[0]
                found.add(str(target))
            else:
                found |= _referenced_ids(value)
    elif isinstance(node, list):
        for item in node:
            found |= _referenced_ids(item)
    return found


def _int(value: Any, what: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise TemplateError(f"{what} is missing")
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise TemplateError(f"{what} is {value!r}, not a number written in the template")
    return int(value)


def _literal(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _labels_from_outputs(outputs: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Service names and worker pools by logical ID, read from the stack's outputs.

    Single services: the output's value references the service. Worker pools: the output is a JSON
    object {"<pool>": "<service name>"} whose values CDK renders as Fn::Join pieces; the literal text
    just before each reference holds the pool's key.
    """
    names: dict[str, str] = {}
    pools: dict[str, str] = {}
    output_to_key = {output: key for key, output in stack_outputs.SERVICE_OUTPUTS.items()}
    for output_name, output in outputs.items():
        value = output.get("Value") if isinstance(output, dict) else None
        if output_name in output_to_key:
            for logical_id in _referenced_ids(value):
                names.setdefault(logical_id, output_to_key[output_name])
        elif output_name == stack_outputs.WORKER_SERVICES:
            pieces: list[Any] = []
            if isinstance(value, dict) and "Fn::Join" in value:
                pieces = value["Fn::Join"][1]
            preceding = ""
            for piece in pieces:
                if isinstance(piece, str):
                    preceding += piece
                    continue
                key = re.search(r'"([^"]+)"\s*:\s*"?$', preceding)
                for logical_id in _referenced_ids(piece):
                    if key:
                        pools[logical_id] = key.group(1)
                preceding = ""
    return names, pools


def _environment(task_definition: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for container in task_definition.get("ContainerDefinitions", []):
        for variable in container.get("Environment", []):
            value = _literal(variable.get("Value"))
            if value is not None:
                env.setdefault(str(variable.get("Name")), value)
    return env


def _capacity(properties: dict[str, Any], cluster_default: list[Any]) -> CapacityShare:
    strategy = properties.get("CapacityProviderStrategy") or ([] if properties.get("LaunchType") else cluster_default)
    if not strategy:
        return CapacityShare()  # LaunchType FARGATE, or nothing said: on-demand Fargate
    values = {"spot_weight": 0, "on_demand_weight": 0, "spot_base": 0, "on_demand_base": 0}
    for item in strategy:
        provider = item.get("CapacityProvider")
        weight = _int(item.get("Weight"), "a capacity provider weight", default=0)
        base = _int(item.get("Base"), "a capacity provider base", default=0)
        if provider == "FARGATE_SPOT":
            values["spot_weight"] += weight
            values["spot_base"] += base
        elif provider == "FARGATE":
            values["on_demand_weight"] += weight
            values["on_demand_base"] += base
        else:
            raise TemplateError(f"capacity provider {provider!r} is not Fargate; only Fargate is priced")
    return CapacityShare(**values)


def _scalable_targets(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """ScalableTarget properties by the logical ID of the ECS service they scale."""
    by_service: dict[str, dict[str, Any]] = {}
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApplicationAutoScaling::ScalableTarget":
            continue
        properties = resource.get("Properties", {})
        for logical_id in _referenced_ids(properties.get("ResourceId")):
            if resources.get(logical_id, {}).get("Type") == "AWS::ECS::Service":
                by_service[logical_id] = properties
    return by_service


def _scheduled_actions(target: dict[str, Any], logical_id: str) -> tuple[ScheduledAction, ...]:
    actions = []
    for action in target.get("ScheduledActions", []) or []:
        bounds = action.get("ScalableTargetAction", {}) or {}
        schedule = _literal(action.get("Schedule"))
        if schedule is None:
            raise TemplateError(f"a scheduled action of {logical_id} has no literal Schedule")
        low = bounds.get("MinCapacity")
        high = bounds.get("MaxCapacity")
        actions.append(
            ScheduledAction(
                schedule=schedule,
                timezone=_literal(action.get("Timezone")) or "UTC",
                min_capacity=None if low is None else _int(low, f"MinCapacity of a scheduled action of {logical_id}"),
                max_capacity=None if high is None else _int(high, f"MaxCapacity of a scheduled action of {logical_id}"),
            )
        )
    return tuple(actions)


def _service(
    logical_id: str,
    properties: dict[str, Any],
    resources: dict[str, Any],
    names: dict[str, str],
    pools: dict[str, str],
    targets: dict[str, dict[str, Any]],
    cluster_default: list[Any],
) -> Service:
    task_ids = [ref for ref in _referenced_ids(properties.get("TaskDefinition")) if ref in resources]
    if not task_ids:
        raise TemplateError(f"service {logical_id} does not reference a task definition of the template")
    task_definition = resources[task_ids[0]].get("Properties", {})
    platform = task_definition.get("RuntimePlatform") or {}
    architecture = platform.get("CpuArchitecture", "X86_64")  # Fargate's default
    if architecture not in ("ARM64", "X86_64"):
        raise TemplateError(f"task definition {task_ids[0]} has CPU architecture {architecture!r}")
    os_family = platform.get("OperatingSystemFamily", "LINUX")
    if os_family != "LINUX":
        raise TemplateError(f"task definition {task_ids[0]} runs {os_family}; only Linux is priced")
    task = TaskSize(
        cpu_units=_int(task_definition.get("Cpu"), f"Cpu of task definition {task_ids[0]}"),
        memory_mib=_int(task_definition.get("Memory"), f"Memory of task definition {task_ids[0]}"),
        architecture=architecture,
        ephemeral_storage_gib=_int(
            (task_definition.get("EphemeralStorage") or {}).get("SizeInGiB"), "EphemeralStorage", default=20
        ),
    )
    env = _environment(task_definition)
    concurrency = env.get(CONCURRENCY_VAR)
    network = (properties.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
    target = targets.get(logical_id, {})
    pool = pools.get(logical_id)
    name = names.get(logical_id) or (f"worker-{pool}" if pool else re.sub(r"[0-9A-F]{8}$", "", logical_id))
    return Service(
        logical_id=logical_id,
        name=name,
        task=task,
        # ECS starts 1 task when a replica service does not say how many.
        desired_count=_int(properties.get("DesiredCount"), f"DesiredCount of {logical_id}", default=1),
        capacity=_capacity(properties, cluster_default),
        public_ip=network.get("AssignPublicIp") == "ENABLED",
        log_level=env.get(LOG_LEVEL_VAR),
        pool=pool,
        concurrency=None if concurrency is None else _int(concurrency, f"{CONCURRENCY_VAR} of {logical_id}"),
        min_capacity=None if "MinCapacity" not in target else _int(target["MinCapacity"], "MinCapacity"),
        max_capacity=None if "MaxCapacity" not in target else _int(target["MaxCapacity"], "MaxCapacity"),
        scheduled_actions=_scheduled_actions(target, logical_id),
        logs=_log_destinations(task_definition, resources),
        metrics_agent=any(
            AGENT_CONFIG_VAR in {variable.get("Name") for variable in container.get("Environment", [])}
            for container in task_definition.get("ContainerDefinitions", [])
        ),
    )


def _log_destinations(task_definition: dict[str, Any], resources: dict[str, Any]) -> LogDestinations:
    """Follow each container's log driver: awslogs to a log group, FireLens to Firehose or CloudWatch.

    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_firelens.html
    """
    groups = {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Logs::LogGroup"
    }
    by_name = {str(props.get("LogGroupName")): logical_id for logical_id, props in groups.items()}
    retentions: list[int | None] = []
    cloudwatch = firehose = False
    for container in task_definition.get("ContainerDefinitions", []):
        configuration = container.get("LogConfiguration") or {}
        driver = configuration.get("LogDriver")
        options = configuration.get("Options") or {}
        if driver == "awslogs":
            cloudwatch = True
            target = options.get("awslogs-group")
            ids = _group_ids(target, by_name)
            known = [logical_id for logical_id in ids if logical_id in groups]
            # A group made outside the template: its retention is unknown, count it as never expiring.
            retentions += [_retention(groups[logical_id]) for logical_id in known] or [None]
        elif driver == "awsfirelens":
            output = str(options.get("Name", "")).lower()
            if "firehose" in output:
                firehose = True
            elif "cloudwatch" in output:
                cloudwatch = True
                ids = _group_ids(options.get("log_group_name"), by_name)
                retentions += [_retention(groups[logical_id]) for logical_id in ids if logical_id in groups] or [None]
    retention = None if None in retentions or not retentions else max(d for d in retentions if d is not None)
    return LogDestinations(cloudwatch=cloudwatch, retention_days=retention, firehose=firehose)


def _group_ids(target: Any, by_name: dict[str, str]) -> set[str]:
    """Log groups named by a Ref/GetAtt token, or by a literal name that a group of the template has."""
    if isinstance(target, str):
        return {by_name[target]} if target in by_name else set()
    return _referenced_ids(target)


def _retention(properties: dict[str, Any]) -> int | None:
    days = properties.get("RetentionInDays")
    return None if days is None else _int(days, "RetentionInDays")


def _images_kept(repository: dict[str, Any]) -> int | None:
    text = _literal((repository.get("LifecyclePolicy") or {}).get("LifecyclePolicyText"))
    if text is None:
        return None
    counts = [
        int(rule["selection"]["countNumber"])
        for rule in json.loads(text).get("rules", [])
        if rule.get("selection", {}).get("countType") == "imageCountMoreThan"
    ]
    return max(counts) if counts else None


def _bucket_expiration(bucket: dict[str, Any]) -> int | None:
    rules = ((bucket.get("LifecycleConfiguration") or {}).get("Rules")) or []
    days = [
        int(rule["ExpirationInDays"])
        for rule in rules
        if rule.get("Status", "Enabled") == "Enabled" and "ExpirationInDays" in rule
    ]
    return max(days) if days else None


def _autoscaler(env: dict[str, str]) -> Autoscaler:
    try:
        settings = json.loads(env[AUTOSCALER_SETTINGS_VAR])
    except json.JSONDecodeError as error:
        raise TemplateError(f"the autoscaler's environment is not JSON: {error}") from None
    return Autoscaler(
        namespaces=1 + (1 if settings.get("seed_metrics_namespace") else 0),
        period_seconds=int(settings.get("metrics_period_seconds", 60)),
    )


def read_template(template: dict[str, Any]) -> StackResources:
    """Everything priced in ``template`` (a synthesized CloudFormation template as a dict)."""
    resources: dict[str, Any] = template.get("Resources") or {}
    if not resources:
        raise TemplateError("the template has no Resources")
    names, pools = _labels_from_outputs(template.get("Outputs") or {})
    targets = _scalable_targets(resources)
    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for logical_id, resource in resources.items():
        by_type.setdefault(str(resource.get("Type")), []).append((logical_id, resource.get("Properties") or {}))

    def of(resource_type: str) -> list[tuple[str, dict[str, Any]]]:
        return by_type.get(resource_type, [])

    cluster_default: list[Any] = []
    for _, association in of("AWS::ECS::ClusterCapacityProviderAssociations"):
        cluster_default = association.get("DefaultCapacityProviderStrategy") or cluster_default
    services = tuple(
        _service(logical_id, properties, resources, names, pools, targets, cluster_default)
        for logical_id, properties in of("AWS::ECS::Service")
    )

    environments = [_environment(properties) for _, properties in of("AWS::ECS::TaskDefinition")]
    allow_list: list[str] = []
    for env in environments:
        if env.get(STATSD_ON_VAR, "True").lower() == "true":
            for name in env.get(ALLOW_LIST_VAR, "").split(","):
                if name.strip() and name.strip() not in allow_list:
                    allow_list.append(name.strip())
    default_queue = next((env[DEFAULT_QUEUE_VAR] for env in environments if DEFAULT_QUEUE_VAR in env), None)
    autoscaler = next((_autoscaler(env) for env in environments if AUTOSCALER_SETTINGS_VAR in env), None)

    load_balancers = tuple(
        LoadBalancer(
            logical_id=logical_id,
            kind=str(properties.get("Type", "application")),
            internet_facing=properties.get("Scheme", "internet-facing") == "internet-facing",
            availability_zones=len(properties.get("Subnets") or properties.get("SubnetMappings") or []),
        )
        for logical_id, properties in of("AWS::ElasticLoadBalancingV2::LoadBalancer")
    )
    databases = tuple(
        Database(
            logical_id=logical_id,
            instance_class=str(properties.get("DBInstanceClass")),
            storage_gib=_int(properties.get("AllocatedStorage"), f"AllocatedStorage of {logical_id}"),
            # CloudFormation's default storage type when none is given.
            storage_type=str(properties.get("StorageType", "gp2")),
            multi_az=str(properties.get("MultiAZ", False)).lower() == "true",
            publicly_accessible=str(properties.get("PubliclyAccessible", False)).lower() == "true",
        )
        for logical_id, properties in of("AWS::RDS::DBInstance")
    )
    # RDS-managed master passwords live in a secret RDS creates outside the template.
    # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html
    managed_passwords = sum(
        1
        for _, properties in of("AWS::RDS::DBInstance")
        if str(properties.get("ManageMasterUserPassword")).lower() == "true"
    )
    alarm_metrics = 0
    for _, properties in of("AWS::CloudWatch::Alarm"):
        # An alarm on a metric math expression is billed per metric it reads.
        metrics = properties.get("Metrics") or []
        alarm_metrics += max(1, sum(1 for metric in metrics if "MetricStat" in metric))
    images = [
        json.dumps(properties.get("Image", ""))
        for _, task in of("AWS::ECS::TaskDefinition")
        for properties in task.get("ContainerDefinitions", [])
    ]
    repositories = of("AWS::ECR::Repository")
    kept = [_images_kept(properties) for _, properties in repositories]
    cluster_settings = [
        setting
        for _, properties in of("AWS::ECS::Cluster")
        for setting in properties.get("ClusterSettings") or []
        if setting.get("Name") == "containerInsights"
    ]
    known = FREE_TYPES | PRICED_TYPES | _NEGLIGIBLE_TYPES
    not_priced = Counter(
        resource_type
        for resource_type in by_type
        for _ in by_type[resource_type]
        if resource_type not in known and not resource_type.startswith("Custom::")
    )
    return StackResources(
        services=services,
        load_balancers=load_balancers,
        nat_gateways=len(of("AWS::EC2::NatGateway")),
        elastic_ips=len(of("AWS::EC2::EIP")),
        databases=databases,
        secrets=len(of("AWS::SecretsManager::Secret")) + managed_passwords,
        alarm_metrics=alarm_metrics,
        dashboards=len(of("AWS::CloudWatch::Dashboard")),
        statsd_allow_list=tuple(allow_list),
        firehose_streams=len(of("AWS::KinesisFirehose::DeliveryStream")),
        buckets=len(of("AWS::S3::Bucket")),
        bucket_expiration_days=tuple(_bucket_expiration(properties) for _, properties in of("AWS::S3::Bucket")),
        queues=len(of("AWS::SQS::Queue")),
        vpc_endpoints=tuple(
            VpcEndpoint(
                logical_id=logical_id,
                kind=str(properties.get("VpcEndpointType", "Gateway")),
                availability_zones=len(properties.get("SubnetIds") or []),
            )
            for logical_id, properties in of("AWS::EC2::VPCEndpoint")
        ),
        ecr_repositories=len(repositories),
        ecr_images_kept=max((count for count in kept if count is not None), default=None),
        uses_cdk_asset_images=any(_CDK_ASSETS_REPOSITORY in image for image in images),
        kms_keys=len(of("AWS::KMS::Key")),
        private_dns_namespaces=len(of("AWS::ServiceDiscovery::PrivateDnsNamespace")),
        container_insights=any(setting.get("Value") in ("enabled", "enhanced") for setting in cluster_settings),
        default_queue=default_queue,
        autoscaler=autoscaler,
        not_priced=dict(sorted(not_priced.items())),
    )
