"""ecs_secrets: composing the DB URL, result backend and Fernet key from what ECS injects."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from deploy_airflow_on_ecs_fargate import ecs_secrets
from deploy_airflow_on_ecs_fargate.airflow_settings import DATABASE_URL_VAR, FERNET_KEY_VAR, RESULT_BACKEND_VAR
from infrastructure.airflow_container import COMPOSED_SECRETS

BASE64URL = string.ascii_letters + string.digits + "-_"


def injected(username: str = "airflow", password: str = "p@ss:w/rd?#%", body: str = "A" * 43) -> dict[str, str]:
    return {
        ecs_secrets.DB_USERNAME_VAR: username,
        ecs_secrets.DB_PASSWORD_VAR: password,
        ecs_secrets.DB_HOST_VAR: "airflow-metadata.abc.us-east-1.rds.amazonaws.com",
        ecs_secrets.DB_PORT_VAR: "5432",
        ecs_secrets.DB_NAME_VAR: "airflow",
        ecs_secrets.FERNET_KEY_BODY_VAR: body,
    }


@given(
    username=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30),
    password=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), min_size=1, max_size=60),
)
@settings(max_examples=200, deadline=None)
def test_database_url_round_trips_any_credentials(username: str, password: str) -> None:
    url = make_url(ecs_secrets.database_url(injected(username, password)))
    assert url.drivername == "postgresql+psycopg"
    assert url.username == username
    assert url.password == password
    assert (url.host, url.port, url.database) == ("airflow-metadata.abc.us-east-1.rds.amazonaws.com", 5432, "airflow")


def test_result_backend_is_the_db_with_celery_prefix() -> None:
    env = injected()
    assert ecs_secrets.result_backend(env) == "db+" + ecs_secrets.database_url(env)


@given(body=st.text(alphabet=BASE64URL, min_size=43, max_size=43))
@settings(max_examples=300, deadline=None)
def test_any_generated_body_makes_a_valid_fernet_key(body: str) -> None:
    key = ecs_secrets.fernet_key(injected(body=body))
    fernet = Fernet(key)  # raises on a key that is not 32 bytes of urlsafe base64
    assert fernet.decrypt(fernet.encrypt(b"connection password")) == b"connection password"


@pytest.mark.parametrize("body", ["A" * 42, "A" * 44, "A" * 42 + "+", "A" * 42 + "=", ""])
def test_malformed_fernet_body_is_refused(body: str) -> None:
    with pytest.raises(ecs_secrets.MissingSecretError):
        ecs_secrets.fernet_key(injected(body=body))


def test_missing_field_names_the_variable() -> None:
    env = injected()
    del env[ecs_secrets.DB_PASSWORD_VAR]
    with pytest.raises(ecs_secrets.MissingSecretError, match=ecs_secrets.DB_PASSWORD_VAR):
        ecs_secrets.database_url(env)


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", ecs_secrets.MODULE, *args], env=env, capture_output=True, text=True, check=False
    )


def test_command_line_prints_the_value_for_airflow_cmd_settings() -> None:
    env = injected()
    completed = run("database-url", env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ecs_secrets.database_url(env)
    assert ecs_secrets.command("fernet-key") == f"python -m {ecs_secrets.MODULE} fernet-key"


def test_command_line_failure_is_one_line_without_traceback() -> None:
    completed = run("database-url", env={})
    assert completed.returncode == 1
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert run("nonsense", env={}).returncode == 2


def test_exec_sets_the_composed_variables_for_the_command() -> None:
    env = injected()
    names = (DATABASE_URL_VAR, RESULT_BACKEND_VAR, FERNET_KEY_VAR)
    script = "import os; " + "; ".join(f"print(os.environ['{name}'])" for name in names)
    completed = run("exec", "--", sys.executable, "-c", script, env=env)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        ecs_secrets.database_url(env),
        ecs_secrets.result_backend(env),
        ecs_secrets.fernet_key(env),
    ]


def test_airflow_reads_the_composed_values_through_its_cmd_settings(tmp_path: Path) -> None:
    """The real Airflow configuration parser runs the commands the task definitions set (`*_CMD`)."""
    env = {
        **injected(password="p@ss/w:rd %"),
        "PATH": str(Path(sys.executable).parent),
        "AIRFLOW_HOME": str(tmp_path),
    }
    for variable, name in COMPOSED_SECRETS.items():
        env[f"{variable}_CMD"] = ecs_secrets.command(name)
    script = (
        "from airflow.configuration import conf; import json; print(json.dumps(["
        "conf.get('database', 'sql_alchemy_conn'), conf.get('celery', 'result_backend'), "
        "conf.get('core', 'fernet_key')]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    assert values == [
        ecs_secrets.database_url(env),
        ecs_secrets.result_backend(env),
        ecs_secrets.fernet_key(env),
    ]
    Fernet(values[2])
