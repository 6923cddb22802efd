"""Composes Airflow's secret settings on ECS from the Secrets Manager values ECS injects.

Secrets Manager cannot template a value: RDS generates ``{"username": ..., "password": ...}``, not a
SQLAlchemy URL, and a generated Fernet key body lacks its base64 padding. Rather than a Lambda-backed
custom resource that would write composed values (and keep them in sync after a password rotation),
ECS injects the raw fields as environment variables (``secrets`` of the container definition, so no
value is ever in the CloudFormation template) and Airflow runs this module through its ``*_CMD``
settings to build the final value:

    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD="python -m deploy_airflow_on_ecs_fargate.ecs_secrets database-url"

https://airflow.apache.org/docs/apache-airflow/stable/howto/set-config.html#configuring-airflow-using-cmd-and-secret

Processes that read the plain variables instead of Airflow's configuration (the worker autoscaler
reads ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``) start through ``exec``, which sets them and then
replaces itself with the command:

    python -m deploy_airflow_on_ecs_fargate.ecs_secrets exec -- python -m deploy_airflow_on_ecs_fargate.autoscaler run
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from urllib.parse import quote

# Injected by ECS from the RDS-generated secret (JSON fields "username" and "password").
DB_USERNAME_VAR = "ECSFLOW_DB_USERNAME"
DB_PASSWORD_VAR = "ECSFLOW_DB_PASSWORD"  # noqa: S105 (a variable name)
# Plain environment: the endpoint is not a secret.
DB_HOST_VAR = "ECSFLOW_DB_HOST"
DB_PORT_VAR = "ECSFLOW_DB_PORT"
DB_NAME_VAR = "ECSFLOW_DB_NAME"
# The 43 base64url characters Secrets Manager generated; a Fernet key is those plus one "=".
FERNET_KEY_BODY_VAR = "ECSFLOW_FERNET_KEY_BODY"

FERNET_KEY_BODY_LENGTH = 43
# The psycopg (v3) driver, as in the local environment.
SQLALCHEMY_DRIVER = "postgresql+psycopg"

MODULE = "deploy_airflow_on_ecs_fargate.ecs_secrets"
COMMANDS = ("database-url", "result-backend", "fernet-key")


class MissingSecretError(Exception):
    """A variable ECS should have injected is missing or malformed."""


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "")
    if not value:
        raise MissingSecretError(f"{name} is not set (ECS injects it from Secrets Manager)")
    return value


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    """SQLAlchemy URL of the metadata DB; user and password are URL-quoted (any character is safe)."""
    user = quote(_require(environ, DB_USERNAME_VAR), safe="")
    password = quote(_require(environ, DB_PASSWORD_VAR), safe="")
    host = _require(environ, DB_HOST_VAR)
    port = _require(environ, DB_PORT_VAR)
    name = _require(environ, DB_NAME_VAR)
    return f"{SQLALCHEMY_DRIVER}://{user}:{password}@{host}:{port}/{name}"


def result_backend(environ: Mapping[str, str] = os.environ) -> str:
    """Celery's database result backend: the metadata DB with the ``db+`` scheme prefix."""
    return "db+" + database_url(environ)


def fernet_key(environ: Mapping[str, str] = os.environ) -> str:
    """A valid Fernet key: 32 random bytes in urlsafe base64 = 43 generated characters + "=" padding.

    Secrets Manager draws each character uniformly from the 64-symbol base64url alphabet (the stack
    excludes every other character), so the 43 characters carry 256 bits; the 2 spare bits of the
    last character are ignored by the decoder.
    """
    body = _require(environ, FERNET_KEY_BODY_VAR)
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    if len(body) != FERNET_KEY_BODY_LENGTH or not set(body) <= alphabet:
        raise MissingSecretError(f"{FERNET_KEY_BODY_VAR} must be {FERNET_KEY_BODY_LENGTH} base64url characters")
    return body + "="


def exec_prefix() -> list[str]:
    """Command prefix that composes the secret variables before running the rest of the command."""
    return ["python", "-m", MODULE, "exec", "--"]


def command(name: str) -> str:
    """The ``*_CMD`` value that makes Airflow run this module for one setting."""
    if name not in COMMANDS:
        raise ValueError(name)
    return f"python -m {MODULE} {name}"


def composed_environment(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The plain Airflow variables (DB URL, result backend, Fernet key) built from the injected fields."""
    from deploy_airflow_on_ecs_fargate.airflow_settings import DATABASE_URL_VAR, FERNET_KEY_VAR, RESULT_BACKEND_VAR

    return {
        DATABASE_URL_VAR: database_url(environ),
        RESULT_BACKEND_VAR: result_backend(environ),
        FERNET_KEY_VAR: fernet_key(environ),
    }


def exec_command(command: list[str]) -> int:
    """Run ``command`` (replacing this process) with the composed variables added to its environment."""
    if not command:
        sys.stderr.write(f"usage: python -m {MODULE} exec -- COMMAND [ARG...]\n")
        return 2
    os.environ.update(composed_environment())
    os.execvp(command[0], command)  # noqa: S606 (the container's own command, from the task definition)


def main(argv: list[str]) -> int:
    builders = {"database-url": database_url, "result-backend": result_backend, "fernet-key": fernet_key}
    if argv[:1] == ["exec"]:
        command = argv[1:]
        if command[:1] == ["--"]:
            command = command[1:]
        try:
            return exec_command(command)
        except MissingSecretError as error:
            sys.stderr.write(f"ecs_secrets: {error}\n")
            return 1
    if len(argv) != 1 or argv[0] not in builders:
        sys.stderr.write(f"usage: python -m {MODULE} {{{','.join(COMMANDS)}}}\n")
        return 2
    try:
        # No trailing newline: Airflow uses a *_CMD's output verbatim (a "\n" would end up in the DB name).
        sys.stdout.write(builders[argv[0]]())
    except MissingSecretError as error:
        sys.stderr.write(f"ecs_secrets: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
