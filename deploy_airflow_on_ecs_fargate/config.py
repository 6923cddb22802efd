"""The one typed configuration model of the project.

Everything reads this model: the embedded local environment, the CDK stack, the CLI, the
autoscaler and the cost estimate. A setting and its default are written here and nowhere else.

Values come from ``ecsflow.yaml`` at the repository root (or the file named by ``--config`` /
``ECSFLOW_CONFIG``), then environment variables override them: ``ECSFLOW_`` + the field path
joined with ``__``, e.g. ``ECSFLOW_AWS__REGION=eu-west-1`` or ``ECSFLOW_LOCAL__API_PORT=8081``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO_ROOT / "ecsflow.yaml"
CONFIG_ENV_VAR = "ECSFLOW_CONFIG"
ENV_PREFIX = "ECSFLOW_"

AIRFLOW_VERSION = "3.3.2"
PYTHON_VERSION_IN_IMAGE = "3.12"

# Valid Fargate task sizes: CPU units -> allowed memory (MiB).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
FARGATE_MEMORY_BY_CPU: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4096 + 1, 1024)),
    1024: list(range(2048, 8192 + 1, 1024)),
    2048: list(range(4096, 16384 + 1, 1024)),
    4096: list(range(8192, 30720 + 1, 1024)),
    8192: list(range(16384, 61440 + 1, 4096)),
    16384: list(range(32768, 122880 + 1, 8192)),
}

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")]
Port = Annotated[int, Field(ge=1024, le=65535)]


class Strict(BaseModel):
    """Base for every section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TaskSize(Strict):
    """CPU and memory of one Fargate task; only combinations Fargate accepts are valid."""

    cpu: int = Field(1024, description="Fargate CPU units (1024 = 1 vCPU)")
    memory_mib: int = Field(2048, description="Memory in MiB, valid for the chosen CPU")

    @model_validator(mode="after")
    def _fargate_combination(self) -> TaskSize:
        allowed = FARGATE_MEMORY_BY_CPU.get(self.cpu)
        if allowed is None:
            raise ValueError(f"cpu {self.cpu} is not a Fargate size; use one of {sorted(FARGATE_MEMORY_BY_CPU)}")
        if self.memory_mib not in allowed:
            raise ValueError(
                f"memory_mib {self.memory_mib} is not valid with cpu {self.cpu}; "
                f"use {allowed[0]}..{allowed[-1]} in steps of {allowed[1] - allowed[0]}"
            )
        return self


class ServiceConfig(TaskSize):
    """An always-on Airflow component (api-server, scheduler, dag-processor, triggerer)."""

    desired_count: int = Field(1, ge=0, le=10)
    capacity_provider: Literal["FARGATE", "FARGATE_SPOT"] = "FARGATE"
    # Upper bound for `ecsflow scale` (immediate or scheduled): a typo such as 50 must not start 50 tasks.
    max_count: int = Field(3, ge=1, le=10, description="Most tasks `ecsflow scale` may set for this service")

    @model_validator(mode="after")
    def _desired_within_max(self) -> ServiceConfig:
        if self.desired_count > self.max_count:
            raise ValueError(f"desired_count ({self.desired_count}) is above max_count ({self.max_count})")
        return self


class WorkerPool(TaskSize):
    """One Celery queue served by its own ECS service of workers, scaled by the autoscaler."""

    name: Name = Field("default", description="Celery queue name; Airflow's default queue is 'default'")
    concurrency: int = Field(8, ge=1, le=256, description="Task slots per worker ([celery] worker_concurrency)")
    capacity_provider: Literal["FARGATE", "FARGATE_SPOT"] = "FARGATE_SPOT"
    min_workers: int = Field(0, ge=0, le=100)
    max_workers: int = Field(4, ge=1, le=100)

    @model_validator(mode="after")
    def _min_below_max(self) -> WorkerPool:
        if self.min_workers > self.max_workers:
            raise ValueError(f"min_workers ({self.min_workers}) is above max_workers ({self.max_workers})")
        return self


class StandaloneTaskConfig(TaskSize):
    """The one-off task (`ecsflow run-task`, `db migrate`, `users create`); flags override per run."""

    # On-demand by default: a Spot interruption in the middle of `db migrate` is not worth the saving.
    capacity_provider: Literal["FARGATE", "FARGATE_SPOT"] = "FARGATE"
    # "firehose": FireLens fluent-bit sidecar -> Kinesis Data Firehose -> S3, queryable with Athena (the
    # seed's design); "cloudwatch": awslogs, so `ecsflow run-task` can stream the output while it runs.
    log_destination: Literal["firehose", "cloudwatch"] = "firehose"


class CliConfig(Strict):
    """How the ecsflow command line talks to AWS."""

    poll_seconds: float = Field(3.0, ge=0, le=60, description="Pause between status polls while waiting on a task")
    max_attempts: int = Field(
        10, ge=1, le=30, description="botocore retries (standard mode) before a throttled call fails"
    )
    # botocore waits 60 s per connection attempt by default; with retries an unreachable endpoint
    # (no network, wrong region) would hang for minutes before the one-line error.
    connect_timeout_seconds: float = Field(10.0, gt=0, le=120)


class AutoscalerConfig(Strict):
    """The worker autoscaler: polls the metadata DB and sets each pool's desired count."""

    poll_seconds: float = Field(5.0, ge=1, le=60, description="How often active tasks are counted")
    scale_in_grace_seconds: int = Field(
        120, ge=0, le=3600, description="How long a pool must be over-provisioned before workers are removed"
    )
    metrics_namespace: str = Field("Airflow/Workers", min_length=1)
    # Polls are aggregated into one PutMetricData per period (requests are billed per 1,000).
    metrics_period_seconds: int = Field(60, ge=10, le=3600)
    # The seed's original metrics (CapacityProviderReservation, NumberOfActiveRunningTasks); null: off.
    seed_metrics_namespace: str | None = Field("DeployAirflowOnECSFargate", min_length=1)
    # Local backend: how long a stopped worker may finish its work before it is killed (ECS: stopTimeout).
    local_worker_stop_timeout_seconds: int = Field(120, ge=1, le=3600)
    # Workers hold ECS scale-in protection while busy; it lapses after this long unless renewed
    # (a crashed worker must not stay protected forever). ECS allows 1..2880 minutes.
    task_protection_minutes: int = Field(120, ge=1, le=2880)


class ScheduledScaling(Strict):
    """Night/weekend scale-down of the always-on services (off by default)."""

    enabled: bool = False
    timezone: str = "UTC"
    # Application Auto Scaling cron: minutes hours day-of-month month day-of-week year.
    # https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
    scale_down_cron: str = "cron(0 20 ? * MON-FRI *)"
    scale_up_cron: str = "cron(0 7 ? * MON-FRI *)"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Lisbon)") from None
        return value

    @field_validator("scale_down_cron", "scale_up_cron")
    @classmethod
    def _cron_shape(cls, value: str) -> str:
        if not re.fullmatch(r"cron\((\S+ ){5}\S+\)", value):
            raise ValueError(f"{value!r} is not an Application Auto Scaling cron(...) expression with 6 fields")
        return value


class DatabaseConfig(Strict):
    """RDS PostgreSQL metadata database."""

    instance_class: str = Field("t4g.micro", pattern=r"^[a-z0-9]+\.[a-z0-9]+$")
    engine_version: str = Field("17.6", pattern=r"^\d+\.\d+$")
    allocated_storage_gib: int = Field(20, ge=20, le=1000)
    multi_az: bool = False
    backup_retention_days: int = Field(7, ge=1, le=35)
    deletion_protection: bool = True


class AirflowConfig(Strict):
    """Airflow settings shared by every component, locally and on ECS."""

    executor: Literal["CeleryExecutor"] = "CeleryExecutor"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = Field(False, description="One JSON object per log line (for Firehose/Athena)")
    load_examples: bool = False
    parallelism: int = Field(64, ge=1, le=10000)
    # Seconds before the scheduler declares a task with no heartbeat dead (default 300 s).
    # A shorter value recovers tasks of killed workers faster.
    task_instance_heartbeat_timeout: int = Field(60, ge=10, le=3600)
    # MWAA's Airflow 3 baseline: tasks queued for 30 min are failed (and retried).
    task_queued_timeout: int = Field(1800, ge=60, le=86400)
    # SQS visibility timeout of the broker queues; must exceed the longest task, or SQS
    # redelivers its message. SQS allows at most 12 h.
    broker_visibility_timeout_seconds: int = Field(43200, ge=60, le=43200)
    secrets_prefix: str = Field("airflow", pattern=r"^[A-Za-z0-9/_+=.@-]+$")
    statsd_allow_list: list[str] = Field(
        default_factory=lambda: [
            "scheduler.heartbeat",
            "scheduler.tasks.starving",
            "executor.open_slots",
            "executor.queued_tasks",
            "executor.running_tasks",
            "dagrun.duration.failed",
            "ti_failures",
            "ti_successes",
            "dag_processing.import_errors",
            "pool.queued_slots",
            "triggerer.capacity_left",
        ],
        description="statsd metric name prefixes forwarded to CloudWatch (each is a paid custom metric)",
    )
    admin_username: str = Field("admin", min_length=1)
    admin_email: str = "admin@example.com"


class AwsConfig(Strict):
    """Where and how the stack is deployed."""

    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    account: str | None = Field(None, pattern=r"^\d{12}$")
    profile: str | None = None
    architecture: Literal["ARM64", "X86_64"] = "ARM64"
    vpc_cidr: str = "10.42.0.0/16"
    max_azs: int = Field(2, ge=2, le=3)
    nat_gateways: int = Field(0, ge=0, le=3)
    image_uri: str | None = Field(None, description="Use this image instead of building into the stack's ECR repo")
    build_image: bool = True
    certificate_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/.+$")
    allowed_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1)
    container_insights: bool = False
    log_retention_days: int = Field(30)
    services_to_firehose: bool = False
    alarm_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    # Tag of the image in the stack's ECR repository (ignored with image_uri).
    image_tag: str = Field("latest", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    ecr_max_images: int = Field(10, ge=1, le=1000, description="Lifecycle rule: older images are expired")
    # The name users type (a CNAME to the load balancer, covered by certificate_arn); default: the ALB's name.
    domain_name: str | None = Field(None, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True)
        if not 16 <= network.prefixlen <= 24:
            raise ValueError("the VPC CIDR must be between /16 and /24")
        return value

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=True)
            except ValueError:
                raise ValueError(f"{value!r} is not a CIDR block such as 203.0.113.0/24") from None
        return values

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        # The values CloudWatch Logs accepts for a retention policy.
        allowed = [
            1,
            3,
            5,
            7,
            14,
            30,
            60,
            90,
            120,
            150,
            180,
            365,
            400,
            545,
            731,
            1096,
            1827,
            2192,
            2557,
            2922,
            3288,
            3653,
        ]
        if value not in allowed:
            raise ValueError(f"log_retention_days must be one of {allowed}")
        return value


class ObservabilityConfig(Strict):
    """Logs, metrics, dashboard and alarms of the AWS stack."""

    # Pin versions for reproducible deployments; both images exist for ARM64 and X86_64.
    # https://gallery.ecr.aws/aws-observability/aws-for-fluent-bit
    fluent_bit_image: str = Field("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", min_length=3)
    # https://gallery.ecr.aws/cloudwatch-agent/cloudwatch-agent
    cloudwatch_agent_image: str = Field("public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest", min_length=3)
    statsd_namespace: str = Field("Airflow/StatsD", pattern=r"^[A-Za-z0-9/_.#:-]{1,255}$")
    log_bucket_expiration_days: int = Field(90, ge=1, le=3650, description="Task logs and Firehose output")
    firehose_buffer_seconds: int = Field(60, ge=0, le=900, description="Latency of log files in S3")
    dashboard: bool = True
    # Alarm when no scheduler task has run for this long (while it is scheduled to run).
    scheduler_down_alarm_minutes: int = Field(5, ge=1, le=60)
    # Alarm when the oldest message in a broker queue is older than this (workers not keeping up).
    queue_age_alarm_minutes: int = Field(30, ge=1, le=720)


class LocalConfig(Strict):
    """The embedded local environment (`ecsflow local up`): no Docker, no AWS."""

    data_dir: Path = Field(Path(".local"), description="Postgres data, logs and PID files; relative to the repo")
    host: Literal["127.0.0.1", "localhost", "::1"] = "127.0.0.1"
    api_port: Port = 8080
    moto_port: Port = 5055
    postgres_port: Port = 5433
    statsd_port: Port = 8125
    database_url: str | None = Field(
        None, description="Use this external PostgreSQL instead of the embedded one (postgresql://...)"
    )
    admin_password: str = Field("admin", min_length=1)
    worker_autoscaling: bool = Field(True, description="Run the autoscaler: 0 workers while idle")
    # Local-only tuning: on ECS Airflow's defaults apply.
    dag_refresh_seconds: int = Field(
        5,
        ge=1,
        le=300,
        description="How often the dag-processor looks for new DAG files ([dag_processor] refresh_interval)",
    )
    start_timeout_seconds: int = Field(180, ge=10, le=1800, description="How long `up` waits for all components")
    stop_timeout_seconds: int = Field(15, ge=1, le=600, description="SIGTERM grace per component before SIGKILL")
    max_restarts: int = Field(3, ge=0, le=100, description="Restarts of a crashed component before it is reported")

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^postgres(ql)?(\+[a-z0-9]+)?://", value):
            raise ValueError("database_url must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _distinct_ports(self) -> LocalConfig:
        ports = {"api_port": self.api_port, "moto_port": self.moto_port, "postgres_port": self.postgres_port}
        if len(set(ports.values())) != len(ports):
            raise ValueError(f"the local ports must differ: {ports}")
        return self

    def resolved_data_dir(self) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else REPO_ROOT / self.data_dir


class CostConfig(Strict):
    """Assumptions of `ecsflow cost` that no template can tell (traffic, log volume, workload).

    Prices live in deploy_airflow_on_ecs_fargate/cost/prices.yaml; everything else the estimate
    reads from the synthesized stack.
    """

    task_hours_per_day: float = Field(
        24.0, ge=0, le=100000, description="Default workload: Airflow task-hours run per day (24 = 48 half-hour tasks)"
    )
    worker_utilization: float = Field(
        0.75, gt=0, le=1, description="Share of a running worker's task slots that are busy (packing is never perfect)"
    )
    log_gb_per_service_month: float = Field(
        0.5, ge=0, description="CloudWatch Logs from one always-on task in a month, at log level INFO"
    )
    log_gb_per_task_hour: float = Field(0.005, ge=0, description="Logs of one Airflow task-hour, at log level INFO")
    alb_lcu: float = Field(0.05, ge=0, description="Average load balancer capacity units used (UI and API traffic)")
    nat_gb_per_month: float = Field(20.0, ge=0, description="Data through NAT gateways, when there are any")
    image_gb: float = Field(1.0, gt=0, description="Compressed size of one Airflow image in ECR")
    mwaa_metadata_gb: float = Field(10.0, ge=0, description="MWAA metadata database size, for the comparison")
    mwaa_extra_schedulers: int = Field(
        0, ge=0, le=3, description="MWAA schedulers beyond the 2 an environment includes, for the comparison"
    )


def _default_pools() -> list[WorkerPool]:
    return [WorkerPool()]  # type: ignore[call-arg]


class Settings(BaseSettings):
    """The whole configuration: one environment of Airflow on ECS Fargate."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        nested_model_default_partial_update=True,
    )

    environment: Name = Field("airflow", description="Prefix of every AWS resource name and the CDK stack name")
    aws: AwsConfig = AwsConfig()  # type: ignore[call-arg]
    airflow: AirflowConfig = AirflowConfig()  # type: ignore[call-arg]
    database: DatabaseConfig = DatabaseConfig()  # type: ignore[call-arg]
    api_server: ServiceConfig = ServiceConfig(cpu=512, memory_mib=2048)  # type: ignore[call-arg]
    scheduler: ServiceConfig = ServiceConfig(cpu=512, memory_mib=1024)  # type: ignore[call-arg]
    # Fargate Spot: an interruption (or no Spot capacity for a while) only delays the parsing of
    # changed DAG files; scheduling goes on from the serialized DAGs in the metadata DB. ~$5.70/month
    # less than on-demand (`ecsflow cost`). The scheduler, api-server and triggerer stay on-demand.
    dag_processor: ServiceConfig = ServiceConfig(cpu=256, memory_mib=1024, capacity_provider="FARGATE_SPOT")  # type: ignore[call-arg]
    triggerer: ServiceConfig = ServiceConfig(cpu=256, memory_mib=1024)  # type: ignore[call-arg]
    standalone_task: StandaloneTaskConfig = StandaloneTaskConfig(cpu=512, memory_mib=1024)  # type: ignore[call-arg]
    cli: CliConfig = CliConfig()  # type: ignore[call-arg]
    worker_pools: list[WorkerPool] = Field(default_factory=_default_pools, min_length=1)
    autoscaler: AutoscalerConfig = AutoscalerConfig()  # type: ignore[call-arg]
    scheduled_scaling: ScheduledScaling = ScheduledScaling()  # type: ignore[call-arg]
    observability: ObservabilityConfig = ObservabilityConfig()  # type: ignore[call-arg]
    local: LocalConfig = LocalConfig()  # type: ignore[call-arg]
    cost: CostConfig = CostConfig()  # type: ignore[call-arg]

    @field_validator("environment")
    @classmethod
    def _aws_name(cls, value: str) -> str:
        # It prefixes RDS, ALB and other names; RDS identifiers refuse consecutive hyphens.
        if "--" in value:
            raise ValueError(f"{value!r} has consecutive hyphens, which AWS resource names refuse")
        return value

    @model_validator(mode="after")
    def _unique_pool_names(self) -> Settings:
        names = [pool.name for pool in self.worker_pools]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"worker pool names must be unique, repeated: {', '.join(duplicates)}")
        return self

    @property
    def stack_name(self) -> str:
        return f"{self.environment}-stack"

    def pool(self, name: str) -> WorkerPool:
        for pool in self.worker_pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the file's values (passed as init kwargs).
        return env_settings, init_settings


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds one plain sentence per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"invalid configuration in {source}: " + "; ".join(problems))


def _describe(error: ErrorDetails) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "is not a known setting (check the spelling)"
    elif error["type"] == "literal_error":
        message = message.replace("Input should be", "must be")
    return f"{location}: {message}"


def config_path(path: str | Path | None = None) -> Path:
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE))


def load_config(path: str | Path | None = None) -> Settings:
    """Read and validate the config file plus ECSFLOW_* overrides; raise ConfigError listing every problem."""
    source = config_path(path)
    data: dict[str, Any] = {}
    if source.exists():
        try:
            loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(str(source), [f"not valid YAML{where}"]) from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(str(source), ["the file must hold a mapping of settings"])
        data = loaded or {}
    elif path is not None or CONFIG_ENV_VAR in os.environ:
        raise ConfigError(str(source), ["the file does not exist"])
    try:
        return Settings(**data)
    except ValidationError as error:
        raise ConfigError(str(source), [_describe(item) for item in error.errors()]) from None
