"""docker-compose.yml: generated from the config, same settings as ECS, local-only, healthy."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from deploy_airflow_on_ecs_fargate import airflow_settings
from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SECRET_KEY_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
    airflow_environment,
    worker_environment,
)
from deploy_airflow_on_ecs_fargate.config import REPO_ROOT, Settings

from .conftest import COMPOSE_FILE

AIRFLOW_COMPONENTS = {"api-server", "scheduler", "dag-processor", "triggerer"}


def airflow_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every service that runs Airflow code (all but the third-party images and the prod image builder)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if name not in {"postgres", "moto", "statsd-exporter", "airflow-image"}
    }


def test_committed_file_is_what_the_generator_writes(
    generate_compose: ModuleType, committed_settings: Settings
) -> None:
    expected = generate_compose.render(committed_settings)
    assert COMPOSE_FILE.read_text(encoding="utf-8") == expected, (
        "docker-compose.yml is out of step with ecsflow.yaml/airflow_settings.py: "
        "run `.venv/bin/python scripts/generate_compose.py`"
    )


def test_every_component_and_a_worker_per_pool(compose: dict[str, Any], committed_settings: Settings) -> None:
    services = set(compose["services"])
    assert AIRFLOW_COMPONENTS | {"airflow-init", "postgres", "moto", "statsd-exporter"} <= services
    for pool in committed_settings.worker_pools:
        worker = compose["services"][f"worker-{pool.name}"]
        assert worker["command"] == ["celery", "worker", "--queues", pool.name]


def test_airflow_services_use_the_dev_image(compose: dict[str, Any]) -> None:
    services = airflow_services(compose)
    assert len(services) >= len(AIRFLOW_COMPONENTS) + 2
    for name, service in services.items():
        assert service["build"]["dockerfile"] == "build/dev/Containerfile", name
        assert service["build"]["context"] == "."
        assert service["image"].endswith(":dev"), name
    # The dev image is built FROM the production image, which the airflow-image service builds.
    builder = compose["services"]["airflow-image"]
    assert builder["build"]["dockerfile"] == "build/prod/Containerfile"
    for service in services.values():
        assert service["build"]["additional_contexts"] == {"prod": "service:airflow-image"}


def test_airflow_settings_are_exactly_the_production_ones(
    compose: dict[str, Any], committed_settings: Settings, generate_compose: ModuleType
) -> None:
    production = airflow_environment(committed_settings, generate_compose.endpoints(committed_settings))
    for name, service in airflow_services(compose).items():
        env = service["environment"]
        for key, value in production.items():
            assert env.get(key) == value, f"{name}: {key}"
        # Nothing AIRFLOW__-prefixed beyond the production settings, except the local endpoints/secrets.
        extra = {key for key in env if key.startswith("AIRFLOW__")} - set(production)
        if name.startswith("worker-"):
            extra -= set(worker_environment(committed_settings, name.removeprefix("worker-")))
        assert extra == {
            airflow_settings.DATABASE_URL_VAR,
            airflow_settings.RESULT_BACKEND_VAR,
            f"{FERNET_KEY_VAR}_CMD",
            f"{JWT_SECRET_VAR}_CMD",
            f"{API_SECRET_KEY_VAR}_CMD",
            "AIRFLOW__API__WORKERS",
        }, name


def test_runtime_settings_name_the_project_modules(compose: dict[str, Any]) -> None:
    env = compose["services"]["scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
    assert env["AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"] == "deploy_airflow_on_ecs_fargate.celery_config.CELERY_CONFIG"
    assert (
        env["AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS"] == "deploy_airflow_on_ecs_fargate.logging_config.LOGGING_CONFIG"
    )
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://api-server:8080/execution/"


def test_compose_environment_gives_a_working_sqs_celery_config(compose: dict[str, Any]) -> None:
    """The celery_config module, imported by a process with the worker's Compose environment, points kombu at moto.

    It runs in a fresh interpreter, as a worker would: importing it loads Airflow's configuration, which
    is process-wide and would leak the Compose database host into other tests.
    """
    env = {**os.environ, **compose["services"]["worker-default"]["environment"]}
    probe = (
        "import json; from deploy_airflow_on_ecs_fargate.celery_config import CELERY_CONFIG as c; "
        "print(json.dumps({'broker_url': c['broker_url'], 'options': c['broker_transport_options'], "
        "'remote_control': c['worker_enable_remote_control']}, default=str))"
    )
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout.strip().splitlines()[-1])
    assert config["broker_url"] == "sqs://@moto:5000"
    queues = config["options"]["predefined_queues"]
    assert queues == {"default": {"url": "http://moto:5000/123456789012/airflow-default"}}
    assert config["options"]["is_secure"] is False
    assert config["remote_control"] is False


def test_workers_get_the_worker_settings_and_others_do_not(
    compose: dict[str, Any], committed_settings: Settings
) -> None:
    for pool in committed_settings.worker_pools:
        env = compose["services"][f"worker-{pool.name}"]["environment"]
        for key, value in worker_environment(committed_settings, pool.name).items():
            assert env[key] == value
        assert env["DUMB_INIT_SETSID"] == "0"
    for name in AIRFLOW_COMPONENTS:
        assert "DUMB_INIT_SETSID" not in compose["services"][name]["environment"]


def test_no_secret_value_is_in_the_file(compose: dict[str, Any]) -> None:
    for name, service in airflow_services(compose).items():
        env = service["environment"]
        for var in (FERNET_KEY_VAR, JWT_SECRET_VAR, API_SECRET_KEY_VAR):
            assert var not in env, f"{name} carries {var} in clear"
            assert re.fullmatch(r"cat /opt/airflow/secrets/\w+", env[f"{var}_CMD"]), name
        assert "/opt/airflow/secrets" in {volume.split(":")[1] for volume in service["volumes"]}


def test_airflow_reads_each_secret_option_from_a_command() -> None:
    """<VAR>_CMD works only for options Airflow marks sensitive; check ours are."""
    from airflow.configuration import conf

    for var in (FERNET_KEY_VAR, JWT_SECRET_VAR, API_SECRET_KEY_VAR):
        _, section, key = var.lower().split("__")
        assert (section, key) in conf.sensitive_config_values, var


def test_ports_are_published_on_loopback_only(compose: dict[str, Any], committed_settings: Settings) -> None:
    published = []
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port!r}"
            published.append(int(port.split(":")[1]))
    local = committed_settings.local
    assert {local.api_port, local.moto_port, local.postgres_port} <= set(published)
    assert len(published) == len(set(published)), "two services publish the same host port"


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        one_off = service.get("restart") == "no"
        worker = name.startswith("worker-")  # Celery's ping needs remote control, which SQS lacks
        if one_off or worker:
            assert "healthcheck" not in service, name
            continue
        test = service["healthcheck"]["test"]
        assert test[0] in {"CMD", "CMD-SHELL"}, name
    assert compose["services"]["api-server"]["healthcheck"]["test"][-1].endswith(airflow_settings.HEALTH_PATH)


def test_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["airflow-init"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "moto": {"condition": "service_healthy"},
    }
    for name, service in airflow_services(compose).items():
        if name != "airflow-init":
            assert service["depends_on"] == {"airflow-init": {"condition": "service_completed_successfully"}}, name
    # The entrypoint's broker check would read `[celery] broker_url` (redis by default), not our
    # config: airflow_settings turns it off for every container, here as on ECS.
    for service in airflow_services(compose).values():
        assert service["environment"]["CONNECTION_CHECK_MAX_COUNT"] == "0"


def test_third_party_images_follow_the_project_pins(compose: dict[str, Any], committed_settings: Settings) -> None:
    services = compose["services"]
    # Postgres: the same minor version as the RDS engine of the config model.
    assert services["postgres"]["image"] == f"postgres:{committed_settings.database.engine_version}"
    # moto: the version pinned in pyproject (and locked) for the embedded environment.
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    moto_pin = next(item for item in pyproject["dependency-groups"]["local"] if item.startswith("moto"))
    assert services["moto"]["image"] == "motoserver/moto:" + moto_pin.split("==")[1]
    for name in ("postgres", "moto", "statsd-exporter"):
        image = services[name]["image"]
        assert re.search(r":v?\d+\.\d+(\.\d+)?$", image), f"{name} image {image} is not pinned to a version"


def test_s3_uses_path_style_addresses_against_moto(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS config file the containers get makes boto3 address buckets as http://moto:5000/<bucket>."""
    import boto3

    env = compose["services"]["scheduler"]["environment"]
    config_file = Path(env["AWS_CONFIG_FILE"].replace("/opt/airflow/project", str(REPO_ROOT)))
    assert config_file.is_file()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config_file))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"])
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "airflow-task-logs", "Key": "task-logs/x.log"})
    assert url.startswith("http://moto:5000/airflow-task-logs/task-logs/x.log?")


def test_check_mode_reports_an_out_of_step_file(
    generate_compose: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "docker-compose.yml"
    stale.write_text("services: {}\n", encoding="utf-8")
    monkeypatch.setattr(generate_compose, "COMPOSE_FILE", stale)
    assert generate_compose.main(["--check", "--config", str(REPO_ROOT / "ecsflow.yaml")]) == 1
    error = capsys.readouterr().err.strip()
    assert "out of step" in error and len(error.splitlines()) == 1
    assert generate_compose.main(["--config", str(REPO_ROOT / "ecsflow.yaml")]) == 0
    assert generate_compose.main(["--check", "--config", str(REPO_ROOT / "ecsflow.yaml")]) == 0


def test_a_bad_config_is_one_line_and_exit_2(
    generate_compose: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "ecsflow.yaml"
    config.write_text("airflow:\n  executor: LocalExecutor\n", encoding="utf-8")
    assert generate_compose.main(["--check", "--config", str(config)]) == 2
    error = capsys.readouterr().err.strip()
    assert "airflow.executor" in error and len(error.splitlines()) == 1


def test_more_pools_mean_more_workers(generate_compose: ModuleType) -> None:
    settings = Settings(worker_pools=[{"name": "default"}, {"name": "heavy", "concurrency": 2}])  # type: ignore[list-item]
    document = generate_compose.compose(settings)
    heavy = document["services"]["worker-heavy"]
    assert heavy["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "2"
    queues = json.loads(heavy["environment"]["ECSFLOW_CELERY_QUEUES"])
    assert queues == {
        "default": "http://moto:5000/123456789012/airflow-default",
        "heavy": "http://moto:5000/123456789012/airflow-heavy",
    }
    assert importlib.import_module("yaml").safe_load(generate_compose.render(settings))["services"]["worker-heavy"]
