"""Assembly of the local environment: secrets, per-process environment, component command lines."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    DATABASE_URL_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
    RESULT_BACKEND_VAR,
)
from deploy_airflow_on_ecs_fargate.local.aws_emulator import expected_resources
from deploy_airflow_on_ecs_fargate.local.components import airflow_components
from deploy_airflow_on_ecs_fargate.local.environment import (
    INSTANCE_VAR,
    component_environment,
    process_environment,
)
from deploy_airflow_on_ecs_fargate.local.layout import Layout
from deploy_airflow_on_ecs_fargate.local.secrets import load_or_create
from tests.local.conftest import local_env, settings_for

DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5433/airflow"


def test_secrets_are_created_once_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == first
    assert len(first.jwt_secret.encode()) >= 64
    from cryptography.fernet import Fernet

    Fernet(first.fernet_key.encode())  # a valid key
    assert load_or_create(tmp_path / "other.json") != first


def test_component_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(local_env(tmp_path), monkeypatch)
    layout = Layout.of(settings)
    secrets = load_or_create(tmp_path / "s.json")
    endpoint = f"http://127.0.0.1:{settings.local.moto_port}"
    env = component_environment(settings, layout, secrets, DB_URL, expected_resources(settings, endpoint))
    api = f"http://127.0.0.1:{settings.local.api_port}"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == api + "/execution/"
    assert env["AWS_ENDPOINT_URL"] == endpoint
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env[JWT_SECRET_VAR] == secrets.jwt_secret
    assert env[FERNET_KEY_VAR] == secrets.fernet_key
    assert env[DATABASE_URL_VAR] == DB_URL
    assert env[RESULT_BACKEND_VAR] == "db+" + DB_URL
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
    assert env["AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER"] == "s3://airflow-task-logs/task-logs"
    assert json.loads(env["ECSFLOW_CELERY_QUEUES"]) == {"default": f"{endpoint}/123456789012/airflow-default"}
    assert env["AIRFLOW__API__WORKERS"] == "1"
    assert env[INSTANCE_VAR] == str(tmp_path)


def test_process_environment_drops_real_aws_and_airflow_settings() -> None:
    parent = {"PATH": "/bin", "AWS_PROFILE": "prod", "AWS_SECRET_ACCESS_KEY": "real", "AIRFLOW__CORE__X": "1"}
    env = process_environment({"AWS_ACCESS_KEY_ID": "testing"}, parent)
    assert env == {"PATH": "/bin", "AWS_ACCESS_KEY_ID": "testing"}


def test_components_with_the_autoscaler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(local_env(tmp_path), monkeypatch)
    components = {component.name: component for component in airflow_components(settings, Layout.of(settings))}
    assert list(components) == ["api-server", "scheduler", "dag-processor", "triggerer", "autoscaler"]
    autoscaler = components["autoscaler"]
    assert autoscaler.command[-4:] == ["deploy_airflow_on_ecs_fargate.autoscaler", "run", "--backend", "local"]
    assert autoscaler.env["ECSFLOW_AUTOSCALER_STATE_FILE"] == str(tmp_path / "autoscaler-state.json")
    assert autoscaler.env["ECSFLOW_LOCAL_LOG_DIR"] == str(tmp_path / "logs")
    assert "default" in json.loads(autoscaler.env["ECSFLOW_AUTOSCALER_POOLS"])


def test_components_with_fixed_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = local_env(tmp_path, ECSFLOW_LOCAL__WORKER_AUTOSCALING="false")
    settings = settings_for(env, monkeypatch)
    components = {component.name: component for component in airflow_components(settings, Layout.of(settings))}
    worker = components["worker-default"]
    assert worker.command[-7:] == ["celery", "worker", "--queues", "default", "--concurrency", "8", "--skip-serve-logs"]
    # --celery-hostname makes Airflow broadcast an inspect first, which SQS cannot carry.
    assert "--celery-hostname" not in worker.command
    assert worker.env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "8"
    api = components["api-server"].command
    assert api[-4:] == ["--host", "127.0.0.1", "--port", str(settings.local.api_port)]
