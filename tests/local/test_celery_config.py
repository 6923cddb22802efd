"""celery_config: the SQS broker Celery gets, and a real message through it to an emulated queue."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from deploy_airflow_on_ecs_fargate.local.isolated import free_port

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/airflow-default"


@pytest.fixture(scope="module")
def celery_config() -> Any:
    """The module, imported the way Airflow imports it: with the broker queues in the environment."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ECSFLOW_CELERY_QUEUES", json.dumps({"default": QUEUE_URL}))
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        module = importlib.import_module("deploy_airflow_on_ecs_fargate.celery_config")
        return importlib.reload(module)


@pytest.fixture
def build(celery_config: Any) -> Callable[[dict[str, str]], dict[str, Any]]:
    return celery_config.build_celery_config  # type: ignore[no-any-return]


def test_module_level_config_comes_from_the_environment(celery_config: Any) -> None:
    assert celery_config.CELERY_CONFIG["broker_transport_options"]["predefined_queues"] == {
        "default": {"url": QUEUE_URL}
    }


def environ(**extra: str) -> dict[str, str]:
    return {
        "ECSFLOW_CELERY_QUEUES": json.dumps({"default": QUEUE_URL, "gpu": QUEUE_URL + "-gpu"}),
        "AWS_DEFAULT_REGION": "eu-west-1",
        **extra,
    }


def test_sqs_broker_with_predefined_queues(build: Any) -> None:
    config = build(environ())
    assert config["broker_url"] == "sqs://"
    options = config["broker_transport_options"]
    assert options["region"] == "eu-west-1"
    assert options["predefined_queues"] == {"default": {"url": QUEUE_URL}, "gpu": {"url": QUEUE_URL + "-gpu"}}
    assert "is_secure" not in options


def test_settings_sqs_needs(build: Any) -> None:
    config = build(environ())
    assert config["worker_enable_remote_control"] is False
    assert config["worker_prefetch_multiplier"] == 1
    assert config["task_acks_late"] is True
    assert config["worker_send_task_events"] is False


def test_keeps_the_provider_defaults(build: Any) -> None:
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

    config = build(environ())
    for key in ("result_backend", "task_default_queue", "worker_concurrency", "accept_content"):
        assert config[key] == DEFAULT_CELERY_CONFIG[key]


def test_endpoint_override_for_an_emulator(celery_config: Any) -> None:
    config = celery_config.build_celery_config(environ(AWS_ENDPOINT_URL="http://127.0.0.1:5055"))
    assert config["broker_url"] == "sqs://@127.0.0.1:5055"
    assert config["broker_transport_options"]["is_secure"] is False
    assert celery_config.broker_url("https://sqs.example.test") == "sqs://@sqs.example.test"


@pytest.mark.parametrize(
    ("queues", "message"),
    [
        (None, "is not set"),
        ("{not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ('{"default": "not-a-url"}', "not an http(s) SQS URL"),
    ],
)
def test_bad_queue_variable(celery_config: Any, queues: str | None, message: str) -> None:
    env = environ()
    if queues is None:
        del env["ECSFLOW_CELERY_QUEUES"]
    else:
        env["ECSFLOW_CELERY_QUEUES"] = queues
    with pytest.raises(celery_config.CeleryConfigError, match=re.escape(message)):
        celery_config.build_celery_config(env)


def test_a_task_message_reaches_the_predefined_queue(build: Any) -> None:
    """Send a task with the built config through moto's SQS: it lands in the queue named by its URL."""
    import boto3
    from celery import Celery
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        sqs = boto3.client(
            "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        # A queue name unlike the Celery queue name: only predefined_queues can connect the two.
        url = sqs.create_queue(QueueName="env-default-broker")["QueueUrl"]
        env = {
            "ECSFLOW_CELERY_QUEUES": json.dumps({"default": url}),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint,
        }
        config = {
            **build(env),
            "broker_transport_options": {
                **build(env)["broker_transport_options"],
                "wait_time_seconds": 0,
            },
        }
        app = Celery("test", config_source=config)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_ACCESS_KEY_ID", "x")
            patch.setenv("AWS_SECRET_ACCESS_KEY", "x")
            app.send_task("execute_workload", args=["payload"], queue="default")
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2).get("Messages", [])
        assert len(messages) == 1
    finally:
        server.stop()
