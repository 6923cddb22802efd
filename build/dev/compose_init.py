"""The one-off init job of docker-compose.yml (like the standalone task on ECS).

1. Creates the shared secrets (Fernet key, JWT secret, API secret key) in the ``secrets`` volume,
   once: every component reads them through ``AIRFLOW__..._CMD`` (see scripts/generate_compose.py).
2. Creates the broker queues and the log bucket in moto and seeds the example connection and
   variable, with the embedded local environment's own code (``local.aws_emulator.provision``),
   and checks the queue URLs moto returned are the ones written into docker-compose.yml.
3. ``airflow db migrate`` and the admin user (FAB), both idempotent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    API_SECRET_KEY_VAR,
    AWS_ENDPOINT_VAR,
    CELERY_QUEUES_VAR,
    FERNET_KEY_VAR,
    JWT_SECRET_VAR,
)
from deploy_airflow_on_ecs_fargate.config import ConfigError, load_config
from deploy_airflow_on_ecs_fargate.local.aws_emulator import provision
from deploy_airflow_on_ecs_fargate.local.secrets import LocalSecrets

SECRET_VARS = (FERNET_KEY_VAR, JWT_SECRET_VAR, API_SECRET_KEY_VAR)


def secret_file(var: str) -> Path:
    """The file named by ``<var>_CMD`` (``cat <file>``) in the container's environment."""
    command = os.environ.get(f"{var}_CMD", "")
    program, _, path = command.partition(" ")
    if program != "cat" or not path:
        raise SystemExit(f"compose_init: {var}_CMD must be 'cat <file>', got {command!r}")
    return Path(path)


def create_secrets() -> None:
    generated = LocalSecrets.generate()
    values = {
        FERNET_KEY_VAR: generated.fernet_key,
        JWT_SECRET_VAR: generated.jwt_secret,
        API_SECRET_KEY_VAR: generated.api_secret_key,
    }
    for var in SECRET_VARS:
        path = secret_file(var)
        if path.exists():
            continue  # kept across restarts: encrypted connections and sessions stay valid
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(values[var])  # no newline: Airflow uses the command's output as is
        print(f"compose_init: created {path}", flush=True)


def create_aws_resources() -> None:
    settings = load_config()
    resources = provision(settings, os.environ[AWS_ENDPOINT_VAR])
    expected = json.loads(os.environ[CELERY_QUEUES_VAR])
    if resources.queue_urls != expected:
        raise SystemExit(
            f"compose_init: moto returned queue URLs {resources.queue_urls}, docker-compose.yml says {expected}; "
            "regenerate it with `python scripts/generate_compose.py`"
        )
    print(f"compose_init: queues {sorted(expected)} and bucket {resources.log_bucket} ready", flush=True)


def airflow(*args: str) -> None:
    print(f"compose_init: airflow {' '.join(args)}", flush=True)
    subprocess.run(["airflow", *args], check=True)


def main() -> int:
    try:
        settings = load_config()
        create_secrets()
        create_aws_resources()
        airflow("db", "migrate")
        admin = settings.airflow
        airflow(
            "users",
            "create",
            "--username",
            admin.admin_username,
            "--password",
            settings.local.admin_password,
            "--email",
            admin.admin_email,
            "--firstname",
            "Admin",
            "--lastname",
            "User",
            "--role",
            "Admin",
        )
    except ConfigError as error:
        print(f"compose_init: {error}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        command = " ".join(map(str, error.cmd))
        print(f"compose_init: {command} failed with exit code {error.returncode}", file=sys.stderr)
        return 1
    print(f"compose_init: done; log in as {settings.airflow.admin_username}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
