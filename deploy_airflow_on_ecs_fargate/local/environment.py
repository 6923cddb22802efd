"""The environment variables of every process of the local environment.

The Airflow settings are the production ones (``airflow_settings.airflow_environment``); only the
endpoints differ (loopback, moto), the secrets come from the data directory instead of Secrets
Manager, and a few intervals are shortened so a laptop reacts in seconds.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SECRET_KEY_VAR,
    AWS_ENDPOINT_VAR,
    DATABASE_URL_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
    RESULT_BACKEND_VAR,
    Endpoints,
    airflow_environment,
)
from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.local.aws_emulator import FAKE_CREDENTIALS, EmulatedResources
from deploy_airflow_on_ecs_fargate.local.layout import Layout
from deploy_airflow_on_ecs_fargate.local.secrets import LocalSecrets

# Every process of one local environment (and every child it forks) carries this variable, so
# `down` can find leftovers of exactly this environment by PID, never by process name.
INSTANCE_VAR = "ECSFLOW_LOCAL_INSTANCE"

# Variables of the user's shell that must not reach the components: real AWS credentials or
# profiles (moto must get fake ones) and any Airflow setting (the config file is the source).
_DROPPED_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "AWS_")


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def api_url(settings: Settings) -> str:
    return url_of(settings.local.host, settings.local.api_port)


def moto_endpoint(settings: Settings) -> str:
    return url_of(settings.local.host, settings.local.moto_port)


def component_environment(
    settings: Settings,
    layout: Layout,
    secrets: LocalSecrets,
    database_url: str,
    resources: EmulatedResources,
) -> dict[str, str]:
    """Variables shared by every Airflow process of the local environment."""
    endpoints = Endpoints(
        api_server_url=api_url(settings),
        public_url=api_url(settings),
        log_bucket=resources.log_bucket,
        celery_queue_urls=resources.queue_urls,
        statsd_host=settings.local.host,
        statsd_port=settings.local.statsd_port,
    )
    env = airflow_environment(settings, endpoints)
    env.update(
        {
            FERNET_KEY_VAR: secrets.fernet_key,
            JWT_SECRET_VAR: secrets.jwt_secret,
            API_SECRET_KEY_VAR: secrets.api_secret_key,
            DATABASE_URL_VAR: database_url,
            # The Celery result backend is the metadata DB, as on ECS.
            RESULT_BACKEND_VAR: f"db+{database_url}",
            AWS_ENDPOINT_VAR: moto_endpoint(settings),
            **FAKE_CREDENTIALS,
            "AIRFLOW_HOME": str(layout.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(layout.dags_dir),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(layout.plugins_dir),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(layout.airflow_home / "logs"),
            # One uvicorn worker: the api-server of a laptop serves one person (4 by default).
            "AIRFLOW__API__WORKERS": "1",
            # New DAG files show up within seconds instead of 5 minutes.
            # https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#refresh-interval
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": str(settings.local.dag_refresh_seconds),
            "PYTHONUNBUFFERED": "1",
            INSTANCE_VAR: str(layout.data_dir),
        }
    )
    return env


def process_environment(component_env: Mapping[str, str], parent: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The full environment of a child process: the user's shell minus AWS/Airflow settings, plus ours."""
    inherited = {key: value for key, value in parent.items() if not key.startswith(_DROPPED_PREFIXES)}
    return {**inherited, **component_env}
