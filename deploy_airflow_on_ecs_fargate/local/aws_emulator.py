"""AWS on loopback: moto in server mode, provisioned like the CDK stack provisions AWS.

moto serves every API the runtime uses: SQS (the Celery broker, one queue per worker pool),
S3 (remote task logs), Secrets Manager (the secrets backend, seeded with an example connection
and variable under ``airflow.secrets_prefix``) and CloudWatch (the autoscaler's metrics).
Its state lives in memory: queues, task logs and secrets are recreated on every ``up``.
https://docs.getmoto.org/en/latest/docs/server_mode.html
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError

# moto accepts any credentials; real ones must never reach it (or leave for AWS by mistake).
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# The account moto puts in ARNs and queue URLs (its default).
MOTO_ACCOUNT_ID = "123456789012"

EXAMPLE_CONNECTION_ID = "example_http"
EXAMPLE_VARIABLE_KEY = "example_greeting"
EXAMPLE_VARIABLE_VALUE = "Hello from AWS Secrets Manager"
EXAMPLE_CONNECTION: dict[str, Any] = {
    "conn_type": "http",
    "host": "api.example.com",
    "schema": "https",
    "login": "example-user",
    "password": "example-password-from-secrets-manager",
    "extra": {"timeout": 10},
}


def moto_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "moto.server", "--host", host, "--port", str(port)]


def log_bucket_name(settings: Settings) -> str:
    return f"{settings.environment}-task-logs"


def queue_name(settings: Settings, pool: str) -> str:
    return f"{settings.environment}-{pool}"


def wait_until_serving(endpoint: str, timeout_seconds: float = 30) -> None:
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2):  # noqa: S310 (loopback)
                return
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise LocalEnvironmentError(
                    f"moto did not answer on {endpoint} within {timeout_seconds:.0f} s"
                ) from None
            time.sleep(0.1)


@dataclass(frozen=True)
class EmulatedResources:
    log_bucket: str
    queue_urls: dict[str, str]


def expected_resources(settings: Settings, endpoint: str) -> EmulatedResources:
    """What :func:`provision` creates; known before moto answers, so Airflow can start meanwhile."""
    pools = settings.worker_pools
    return EmulatedResources(
        log_bucket=log_bucket_name(settings),
        queue_urls={pool.name: f"{endpoint}/{MOTO_ACCOUNT_ID}/{queue_name(settings, pool.name)}" for pool in pools},
    )


def provision(settings: Settings, endpoint: str) -> EmulatedResources:
    """Create the broker queues and the log bucket, seed Secrets Manager; idempotent."""
    import boto3

    session = boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=settings.aws.region,
    )
    sqs = session.client("sqs", endpoint_url=endpoint)
    queue_urls = {}
    for pool in settings.worker_pools:
        # With predefined queues Celery never sets the visibility timeout: the queue attribute applies.
        response = sqs.create_queue(
            QueueName=queue_name(settings, pool.name),
            Attributes={"VisibilityTimeout": str(settings.airflow.broker_visibility_timeout_seconds)},
        )
        queue_urls[pool.name] = response["QueueUrl"]

    s3 = session.client("s3", endpoint_url=endpoint)
    bucket = log_bucket_name(settings)
    try:
        if settings.aws.region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": settings.aws.region},  # type: ignore[typeddict-item]
            )
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass

    secretsmanager = session.client("secretsmanager", endpoint_url=endpoint)
    prefix = settings.airflow.secrets_prefix
    seeds = {
        f"{prefix}/connections/{EXAMPLE_CONNECTION_ID}": json.dumps(EXAMPLE_CONNECTION),
        f"{prefix}/variables/{EXAMPLE_VARIABLE_KEY}": EXAMPLE_VARIABLE_VALUE,
    }
    for name, value in seeds.items():
        # An existing secret may have been changed by the user: keep theirs.
        with contextlib.suppress(secretsmanager.exceptions.ResourceExistsException):
            secretsmanager.create_secret(Name=name, SecretString=value)
    return EmulatedResources(log_bucket=bucket, queue_urls=queue_urls)
