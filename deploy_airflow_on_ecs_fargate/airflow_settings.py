"""Every Airflow setting this project sets, in one place, for ECS and for the local environment.

Both the CDK stack (container environment of every task definition) and the embedded local
environment call :func:`airflow_environment`, so a component locally runs with the same
settings it gets on Fargate; only the endpoints differ. Secret values (Fernet key, JWT secret,
DB URL, ...) are never here: their variable names are in :data:`SECRET_VARIABLES`, and ECS
injects them from Secrets Manager (``secrets`` of the container definition), the local
environment from its data directory.

Reference: https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from deploy_airflow_on_ecs_fargate.config import Settings

# Environment variables read by the runtime package (celery_config, logging_config, autoscaler).
CELERY_QUEUES_VAR = "ECSFLOW_CELERY_QUEUES"  # JSON {"<celery queue>": "<SQS queue URL>"}
AWS_REGION_VAR = "AWS_DEFAULT_REGION"
# botocore honours AWS_ENDPOINT_URL for every client; the local environment points it at moto.
# https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
AWS_ENDPOINT_VAR = "AWS_ENDPOINT_URL"
JSON_LOGS_VAR = "ECSFLOW_JSON_LOGS"

# Names of the variables that carry secrets; their values come from Secrets Manager on ECS.
FERNET_KEY_VAR = "AIRFLOW__CORE__FERNET_KEY"
# Every component must share the JWT secret, or tasks fail with "Signature verification failed".
JWT_SECRET_VAR = "AIRFLOW__API_AUTH__JWT_SECRET"  # noqa: S105 (a variable name)
API_SECRET_KEY_VAR = "AIRFLOW__API__SECRET_KEY"  # noqa: S105 (a variable name)
DATABASE_URL_VAR = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
RESULT_BACKEND_VAR = "AIRFLOW__CELERY__RESULT_BACKEND"
SECRET_VARIABLES = (FERNET_KEY_VAR, JWT_SECRET_VAR, API_SECRET_KEY_VAR, DATABASE_URL_VAR, RESULT_BACKEND_VAR)

API_SERVER_PORT = 8080
# Log servers of workers and triggerers ([logging] worker_log_server_port / trigger_log_server_port,
# Airflow's defaults): the api-server reads a running or deferred task's log from them.
WORKER_LOG_SERVER_PORT = 8793
TRIGGERER_LOG_SERVER_PORT = 8794
EXECUTION_API_PATH = "/execution/"
HEALTH_PATH = "/api/v2/monitor/health"


@dataclass(frozen=True)
class Endpoints:
    """Where this deployment's parts are reachable; the only thing that differs between ECS and local."""

    api_server_url: str  # private URL workers use for the Execution API, e.g. http://api-server.airflow:8080
    public_url: str  # what a person opens in the browser
    log_bucket: str
    celery_queue_urls: dict[str, str] = field(default_factory=dict)
    statsd_host: str = "localhost"
    statsd_port: int = 8125


def remote_log_folder(bucket: str) -> str:
    return f"s3://{bucket}/task-logs"


def airflow_environment(settings: Settings, endpoints: Endpoints) -> dict[str, str]:
    """The AIRFLOW__* (and runtime package) variables every component gets."""
    airflow = settings.airflow
    prefix = airflow.secrets_prefix
    env = {
        "AIRFLOW__CORE__EXECUTOR": airflow.executor,
        "AIRFLOW__CORE__LOAD_EXAMPLES": str(airflow.load_examples),
        "AIRFLOW__CORE__PARALLELISM": str(airflow.parallelism),
        # Workers run tasks through the api-server's Task Execution API (Airflow 3).
        # https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#execution-api-server-url
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": endpoints.api_server_url.rstrip("/") + EXECUTION_API_PATH,
        "AIRFLOW__API__BASE_URL": endpoints.public_url,
        # No [scheduler] standalone_dag_processor: Airflow 3 (checked on 3.3.2) always parses DAGs in
        # the separate `airflow dag-processor` command, its own ECS service / local process.
        # FAB auth manager: users/roles in the metadata DB, `airflow users create` as in the seed.
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(airflow.task_instance_heartbeat_timeout),
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": str(airflow.task_queued_timeout),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": airflow.log_level,
        # Our logging config: everything to stdout (awslogs/FireLens) plus the S3 task handler.
        "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": "deploy_airflow_on_ecs_fargate.logging_config.LOGGING_CONFIG",
        "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
        "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": remote_log_folder(endpoints.log_bucket),
        "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "aws_default",
        "AIRFLOW__LOGGING__ENCRYPT_S3_LOGS": "False",
        # Nested dicts (SQS predefined queues) cannot live in airflow.cfg: point at a module.
        "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "deploy_airflow_on_ecs_fargate.celery_config.CELERY_CONFIG",
        # Remote control uses broadcast (fanout) queues SQS does not have.
        "AIRFLOW__CELERY__WORKER_ENABLE_REMOTE_CONTROL": "False",
        # Informational with predefined queues (the SQS queue's own attribute applies, see
        # celery_config); set to the same value so the provider does not warn about its 24 h default.
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(airflow.broker_visibility_timeout_seconds),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": settings.worker_pools[0].name,
        # https://airflow.apache.org/docs/apache-airflow-providers-amazon/stable/secrets-backends/aws-secrets-manager.html
        "AIRFLOW__SECRETS__BACKEND": "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(
            {
                "connections_prefix": f"{prefix}/connections",
                "variables_prefix": f"{prefix}/variables",
                "config_prefix": f"{prefix}/config",
            }
        ),
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": endpoints.statsd_host,
        "AIRFLOW__METRICS__STATSD_PORT": str(endpoints.statsd_port),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
        # Each forwarded metric is a paid CloudWatch custom metric: only an allow-list goes out.
        "AIRFLOW__METRICS__METRICS_ALLOW_LIST": ",".join(airflow.statsd_allow_list),
        AWS_REGION_VAR: settings.aws.region,
        CELERY_QUEUES_VAR: json.dumps(endpoints.celery_queue_urls, sort_keys=True),
        JSON_LOGS_VAR: str(airflow.json_logs).lower(),
        # Airflow's own switch (>= 3.2), read by every process it starts (task runners included);
        # logging_config also turns it on from ECSFLOW_JSON_LOGS alone.
        "AIRFLOW__LOGGING__JSON_LOGS": str(airflow.json_logs),
        # The official image's entrypoint makes `scheduler` and `celery` commands wait for the broker
        # named by `[celery] broker_url`; ours lives in celery_config_options, so the check would
        # probe the default redis://redis:6379 and exit 1. Turning it off also skips the DB wait:
        # ECS restarts a task whose database is not reachable yet.
        # https://airflow.apache.org/docs/docker-stack/entrypoint.html#waits-for-celery-broker-connection
        "CONNECTION_CHECK_MAX_COUNT": "0",
    }
    return env


def worker_environment(settings: Settings, pool_name: str) -> dict[str, str]:
    """Extra variables of a Celery worker of one pool (on top of :func:`airflow_environment`)."""
    pool = settings.pool(pool_name)
    return {
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(pool.concurrency),
        # With the official image, dumb-init must not forward SIGTERM to the whole process group,
        # or every task process dies at once instead of Celery's warm shutdown.
        # https://airflow.apache.org/docs/docker-stack/entrypoint.html#signal-propagation
        "DUMB_INIT_SETSID": "0",
    }


AUTOSCALER_POOLS_VAR = "ECSFLOW_AUTOSCALER_POOLS"
AUTOSCALER_SETTINGS_VAR = "ECSFLOW_AUTOSCALER"


def autoscaler_environment(
    settings: Settings, cluster: str = "", service_names: dict[str, str] | None = None
) -> dict[str, str]:
    """What the worker autoscaler needs to know, as environment variables (it has no config file on ECS).

    ``ECSFLOW_AUTOSCALER_POOLS`` = {"<pool>": {"service", "cluster", "concurrency", "min", "max"}};
    locally ``service``/``cluster`` are empty and the local backend starts worker processes instead.
    """
    service_names = service_names or {}
    pools = {
        pool.name: {
            "service": service_names.get(pool.name, ""),
            "cluster": cluster,
            "concurrency": pool.concurrency,
            "min": pool.min_workers,
            "max": pool.max_workers,
        }
        for pool in settings.worker_pools
    }
    return {
        AUTOSCALER_POOLS_VAR: json.dumps(pools, sort_keys=True),
        AUTOSCALER_SETTINGS_VAR: settings.autoscaler.model_dump_json(),
    }
