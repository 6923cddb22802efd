"""build/dev/compose_init.py, the Compose init job, against a real moto server on loopback."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import boto3
import pytest
from cryptography.fernet import Fernet

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SECRET_KEY_VAR,
    AWS_ENDPOINT_VAR,
    CELERY_QUEUES_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
)
from deploy_airflow_on_ecs_fargate.config import ENV_PREFIX

SECRET_VARS = (FERNET_KEY_VAR, JWT_SECRET_VAR, API_SECRET_KEY_VAR)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def init_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: str) -> Path:
    """The environment the init job sees in Compose, with moto and the secrets volume made local."""
    for key in list(os.environ):
        if key.startswith((ENV_PREFIX, "AWS_")):
            monkeypatch.delenv(key)
    secrets_dir = tmp_path / "secrets"
    for var in SECRET_VARS:
        monkeypatch.setenv(f"{var}_CMD", f"cat {secrets_dir / var.lower()}")
    monkeypatch.setenv(AWS_ENDPOINT_VAR, moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv(CELERY_QUEUES_VAR, json.dumps({"default": f"{moto_endpoint}/123456789012/airflow-default"}))
    return secrets_dir


def test_secret_file_comes_from_the_cmd_variable(compose_init: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{JWT_SECRET_VAR}_CMD", "cat /opt/airflow/secrets/jwt_secret")
    assert compose_init.secret_file(JWT_SECRET_VAR) == Path("/opt/airflow/secrets/jwt_secret")
    monkeypatch.setenv(f"{JWT_SECRET_VAR}_CMD", "aws secretsmanager get-secret-value")
    with pytest.raises(SystemExit, match="must be 'cat <file>'"):
        compose_init.secret_file(JWT_SECRET_VAR)


def test_secrets_are_created_once_private_and_usable(compose_init: ModuleType, init_env: Path) -> None:
    compose_init.create_secrets()
    files = {var: init_env / var.lower() for var in SECRET_VARS}
    first = {var: path.read_text(encoding="utf-8") for var, path in files.items()}
    for path in files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    Fernet(first[FERNET_KEY_VAR].encode())  # a valid Fernet key
    assert len(first[JWT_SECRET_VAR]) >= 64
    assert not any(value.endswith("\n") for value in first.values())
    compose_init.create_secrets()  # a restart keeps them: encrypted connections stay readable
    assert {var: path.read_text(encoding="utf-8") for var, path in files.items()} == first


def test_aws_resources_match_the_compose_file(compose_init: ModuleType, init_env: Path, moto_endpoint: str) -> None:
    compose_init.create_aws_resources()
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    url = sqs.get_queue_url(QueueName="airflow-default")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "43200"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    assert "airflow-task-logs" in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    compose_init.create_aws_resources()  # idempotent


def test_queue_urls_out_of_step_stop_the_init(
    compose_init: ModuleType, init_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CELERY_QUEUES_VAR, json.dumps({"default": "http://moto:5000/123456789012/other"}))
    with pytest.raises(SystemExit, match="regenerate it"):
        compose_init.create_aws_resources()


def test_main_migrates_and_creates_the_admin(
    compose_init: ModuleType, init_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(compose_init, "airflow", lambda *args: calls.append(args))
    assert compose_init.main() == 0
    assert calls[0] == ("db", "migrate")
    assert calls[1][:4] == ("users", "create", "--username", "admin")
    assert "--role" in calls[1] and calls[1][calls[1].index("--role") + 1] == "Admin"


def test_a_failing_airflow_command_is_one_line_and_exit_1(
    compose_init: ModuleType, init_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(compose_init.subprocess, "run", _fail)
    assert compose_init.main() == 1
    error = capsys.readouterr().err.strip()
    assert error == "compose_init: airflow db migrate failed with exit code 3"


def _fail(command: list[str], check: bool) -> None:
    import subprocess

    raise subprocess.CalledProcessError(3, command)
