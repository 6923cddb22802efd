"""Celery configuration of the CeleryExecutor: Amazon SQS as the broker.

Airflow loads it through ``[celery] celery_config_options`` (set in ``airflow_settings``), because
``predefined_queues`` is a nested dict that cannot be written in airflow.cfg or one env variable.
It starts from the celery provider's defaults (result backend, serializers, concurrency, ...) and
changes only what SQS needs. Everything deployment-specific comes from the environment, so the same
module serves ECS and the embedded local environment:

- ``ECSFLOW_CELERY_QUEUES``: JSON ``{"<celery queue>": "<SQS queue URL>"}``, one entry per worker pool;
- ``AWS_DEFAULT_REGION``: the queues' region;
- ``AWS_ENDPOINT_URL`` (optional): an SQS-compatible endpoint instead of AWS (moto, locally).

Kombu's SQS transport: https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.SQS.html
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

from deploy_airflow_on_ecs_fargate.airflow_settings import AWS_ENDPOINT_VAR, AWS_REGION_VAR, CELERY_QUEUES_VAR

# Imported for its Celery signal handlers: a worker holds ECS task scale-in protection while it
# runs tasks (no-op off ECS). See docs/autoscaling.md.
from deploy_airflow_on_ecs_fargate.autoscaler import task_protection  # noqa: F401


class CeleryConfigError(ValueError):
    """The environment does not describe a usable SQS broker."""


def predefined_queues(raw: str | None) -> dict[str, dict[str, str]]:
    """Parse ``ECSFLOW_CELERY_QUEUES`` into kombu's ``predefined_queues`` option."""
    if not raw:
        raise CeleryConfigError(f"{CELERY_QUEUES_VAR} is not set: it must map each Celery queue to its SQS queue URL")
    try:
        queues = json.loads(raw)
    except json.JSONDecodeError as error:
        raise CeleryConfigError(f"{CELERY_QUEUES_VAR} is not valid JSON: {error.msg}") from None
    if not isinstance(queues, dict) or not queues:
        raise CeleryConfigError(f"{CELERY_QUEUES_VAR} must be a non-empty JSON object of queue name -> SQS URL")
    parsed: dict[str, dict[str, str]] = {}
    for name, url in queues.items():
        if not isinstance(url, str) or urlsplit(url).scheme not in {"http", "https"}:
            raise CeleryConfigError(f"{CELERY_QUEUES_VAR}: the URL of queue {name!r} is not an http(s) SQS URL")
        # No credentials here: kombu then builds its boto3 session from the default chain
        # (the ECS task role on Fargate, fake keys for moto locally).
        parsed[name] = {"url": url}
    return parsed


def broker_url(endpoint: str | None) -> str:
    """``sqs://`` for AWS; with an endpoint override, kombu takes host and port from the URL."""
    if not endpoint:
        return "sqs://"
    parts = urlsplit(endpoint)
    if not parts.hostname:
        raise CeleryConfigError(f"{AWS_ENDPOINT_VAR} {endpoint!r} is not a URL such as http://127.0.0.1:5055")
    port = f":{parts.port}" if parts.port else ""
    return f"sqs://@{parts.hostname}{port}"


def build_celery_config(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, Any]:
    """The Celery config for the given environment (a function so tests can pass their own)."""
    endpoint = environ.get(AWS_ENDPOINT_VAR) or None
    transport_options: dict[str, Any] = {
        **DEFAULT_CELERY_CONFIG["broker_transport_options"],
        "region": environ.get(AWS_REGION_VAR) or "us-east-1",
        "predefined_queues": predefined_queues(environ.get(CELERY_QUEUES_VAR)),
        # With predefined queues kombu never creates or alters a queue, so its ``visibility_timeout``
        # option (only used as a CreateQueue attribute) is ignored: the SQS queue's own
        # VisibilityTimeout attribute applies, and the CDK stack / local emulator set it from
        # ``airflow.broker_visibility_timeout_seconds`` (longer than the longest task, at most 12 h).
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
        # Long polling: an idle worker makes one request per 10 s instead of a request per second,
        # and a new message is still returned as soon as it arrives.
        "wait_time_seconds": 10,
    }
    if endpoint:
        transport_options["is_secure"] = urlsplit(endpoint).scheme == "https"
    return {
        **DEFAULT_CELERY_CONFIG,
        "broker_url": broker_url(endpoint),
        "broker_transport_options": transport_options,
        # Remote control (inspect, ping, shutdown broadcasts) needs fanout exchanges SQS lacks;
        # left on, every worker polls extra "pidbox" queues it may not create.
        "worker_enable_remote_control": False,
        # One message per free slot: a long task must not hold prefetched messages another
        # worker could run (and scale-in must not strand them).
        "worker_prefetch_multiplier": 1,
        # Acknowledge (delete from SQS) only after the task ran, so a worker lost mid-task
        # leaves the message for redelivery after the visibility timeout.
        "task_acks_late": True,
        # Celery events would need a fanout exchange too.
        "worker_send_task_events": False,
        "task_send_sent_event": False,
    }


CELERY_CONFIG: dict[str, Any] = build_celery_config()
