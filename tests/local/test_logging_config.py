"""logging_config, loaded by Airflow itself in a fresh interpreter (Airflow reads its config at import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROBE = r"""
import json, logging, sys
from airflow.logging_config import configure_logging, get_remote_task_log
from deploy_airflow_on_ecs_fargate import logging_config

configure_logging()
remote = get_remote_task_log()
facts = {
    "loggers": {name: logger.get("handlers", []) for name, logger in logging_config.LOGGING_CONFIG["loggers"].items()},
    "propagate": {name: logger.get("propagate") for name, logger in logging_config.LOGGING_CONFIG["loggers"].items()},
    "remote_class": type(remote).__name__,
    "remote_base": getattr(remote, "remote_base", None),
    "module_remote_is_airflows": remote is logging_config.REMOTE_TASK_LOG,
    "json": logging_config.JSON_LOGS,
}
sys.stderr.write("FACTS " + json.dumps(facts) + "\n")
logging.getLogger("flask_appbuilder").warning("fab line")
logging.getLogger("airflow.jobs").warning("scheduler line")
"""


def probe(tmp_path: Path, json_logs: bool) -> tuple[dict[str, Any], list[str]]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "ECSFLOW_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__LOGGING__LOGGING_CONFIG_CLASS": "deploy_airflow_on_ecs_fargate.logging_config.LOGGING_CONFIG",
            "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
            "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": "s3://example-bucket/task-logs",
            "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "aws_default",
            "ECSFLOW_JSON_LOGS": "true" if json_logs else "false",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    facts_line = next(line for line in result.stderr.splitlines() if line.startswith("FACTS "))
    return json.loads(facts_line.removeprefix("FACTS ")), result.stdout.splitlines()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[str]]:
    return probe(tmp_path_factory.mktemp("plain"), json_logs=False)


def test_every_logger_ends_on_stdout(plain: tuple[dict[str, Any], list[str]]) -> None:
    facts, stdout = plain
    # Only the task logger keeps a handler of its own (the file the S3 IO uploads); all propagate to root.
    assert {name: handlers for name, handlers in facts["loggers"].items() if handlers} == {"airflow.task": ["task"]}
    assert all(facts["propagate"].values())
    assert any("fab line" in line for line in stdout)
    assert any("scheduler line" in line for line in stdout)


def test_task_logs_go_to_s3(plain: tuple[dict[str, Any], list[str]]) -> None:
    facts, _ = plain
    assert facts["remote_class"] == "S3RemoteLogIO"
    assert facts["remote_base"] == "s3://example-bucket/task-logs"
    assert facts["module_remote_is_airflows"] is True


def test_plain_lines_by_default(plain: tuple[dict[str, Any], list[str]]) -> None:
    facts, stdout = plain
    assert facts["json"] is False
    line = next(line for line in stdout if "fab line" in line)
    with pytest.raises(ValueError):
        json.loads(line)


def test_json_lines_when_asked(tmp_path: Path) -> None:
    facts, stdout = probe(tmp_path, json_logs=True)
    assert facts["json"] is True
    records = [json.loads(line) for line in stdout if line.strip()]
    events = {record["event"]: record for record in records}
    assert events["fab line"]["logger"] == "flask_appbuilder"
    assert events["scheduler line"]["level"] == "warning"
