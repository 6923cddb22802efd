"""The processes of the local environment and their command lines."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from deploy_airflow_on_ecs_fargate.airflow_settings import autoscaler_environment, worker_environment
from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.local.layout import Layout

AUTOSCALER_STATE_FILE_VAR = "ECSFLOW_AUTOSCALER_STATE_FILE"
LOCAL_LOG_DIR_VAR = "ECSFLOW_LOCAL_LOG_DIR"

API_SERVER = "api-server"
SCHEDULER = "scheduler"
DAG_PROCESSOR = "dag-processor"
TRIGGERER = "triggerer"
AUTOSCALER = "autoscaler"
MOTO = "moto"
POSTGRES = "postgres"
WORKER_PREFIX = "worker-"

# Key of each component's entry in the api-server's /api/v2/monitor/health answer.
HEALTH_KEYS = {SCHEDULER: "scheduler", DAG_PROCESSOR: "dag_processor", TRIGGERER: "triggerer"}


@dataclass(frozen=True)
class Component:
    """One supervised process."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)  # on top of the shared environment


def consumes_queues(component: Component) -> bool:
    """Celery workers, or the autoscaler that starts them: they need the SQS queues to exist."""
    return component.name == AUTOSCALER or component.name.startswith(WORKER_PREFIX)


def airflow_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "airflow", *args]


def worker_component_name(pool: str) -> str:
    return f"{WORKER_PREFIX}{pool}"


def airflow_components(settings: Settings, layout: Layout) -> list[Component]:
    """api-server, scheduler, dag-processor, triggerer, then the autoscaler or one worker per pool."""
    local = settings.local
    components = [
        Component(API_SERVER, airflow_command("api-server", "--host", local.host, "--port", str(local.api_port))),
        Component(SCHEDULER, airflow_command("scheduler")),
        # Airflow 3 always parses DAGs in its own process (`airflow dag-processor`), as on ECS.
        Component(DAG_PROCESSOR, airflow_command("dag-processor")),
        # Logs are read from S3, so no log server (its fixed port would also clash between environments).
        Component(TRIGGERER, airflow_command("triggerer", "--skip-serve-logs")),
    ]
    if local.worker_autoscaling:
        components.append(
            Component(
                AUTOSCALER,
                [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.autoscaler", "run", "--backend", "local"],
                {
                    **autoscaler_environment(settings),
                    AUTOSCALER_STATE_FILE_VAR: str(layout.autoscaler_state_file),
                    LOCAL_LOG_DIR_VAR: str(layout.logs_dir),
                },
            )
        )
    else:
        for pool in settings.worker_pools:
            components.append(
                Component(
                    worker_component_name(pool.name),
                    airflow_command(
                        "celery",
                        "worker",
                        "--queues",
                        pool.name,
                        "--concurrency",
                        str(pool.concurrency),
                        # No --celery-hostname: with it Airflow first asks the workers (inspect),
                        # a broadcast that SQS cannot carry.
                        "--skip-serve-logs",
                    ),
                    worker_environment(settings, pool.name),
                )
            )
    return components
