"""Logging of every Airflow component: stdout for the container log driver, task logs also to S3.

Airflow loads ``LOGGING_CONFIG`` through ``[logging] logging_config_class`` (set in
``airflow_settings``). It starts from Airflow's own default and changes three things:

- Every logger ends at the root handler, which Airflow 3 points at stdout, so awslogs or the
  FireLens sidecar receive everything. Airflow's default gives ``flask_appbuilder`` its own
  handler, which Airflow's structlog setup turns into a plain stderr handler: here it propagates.
- Task logs keep the ``task`` file handler (the worker writes the attempt's log file) and the S3
  remote IO uploads the file when the attempt ends; the api-server reads it back from S3, so
  the UI shows the logs of workers that no longer exist. Airflow 3 finds that remote IO through
  the module-level ``REMOTE_TASK_LOG`` / ``DEFAULT_REMOTE_CONN_ID`` of this module, so both are
  re-exported from Airflow's own ``airflow_local_settings``, which builds them from
  ``[logging] remote_base_log_folder`` (``s3://...``).
  https://airflow.apache.org/docs/apache-airflow-providers-amazon/stable/logging/s3-task-handler.html
- ``ECSFLOW_JSON_LOGS=true`` switches on Airflow's one-JSON-object-per-line output
  (``[logging] json_logs``, Airflow >= 3.2), for Firehose -> S3 -> Athena.
  https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#json-logs
"""

from __future__ import annotations

import copy
import os
from typing import Any

from airflow.config_templates.airflow_local_settings import (
    DEFAULT_LOGGING_CONFIG,
    DEFAULT_REMOTE_CONN_ID,
    REMOTE_TASK_LOG,
)
from airflow.configuration import conf

from deploy_airflow_on_ecs_fargate.airflow_settings import JSON_LOGS_VAR

__all__ = ["DEFAULT_REMOTE_CONN_ID", "JSON_LOGS", "LOGGING_CONFIG", "REMOTE_TASK_LOG", "build_logging_config"]

ROOT_HANDLER = "console"


def json_logs_enabled(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    return environ.get(JSON_LOGS_VAR, "false").strip().lower() in {"1", "true", "yes", "on"}


def build_logging_config(base: dict[str, Any]) -> dict[str, Any]:
    """Airflow's default logging dict with every logger ending on the root (stdout) handler."""
    config = copy.deepcopy(base)
    for name, logger in config["loggers"].items():
        if name == "airflow.task":
            # The file handler is what the remote IO uploads; propagation also prints the lines.
            logger["propagate"] = True
            continue
        logger["handlers"] = []
        logger["propagate"] = True
    config["root"]["handlers"] = [ROOT_HANDLER]
    config["handlers"][ROOT_HANDLER]["stream"] = "ext://sys.stdout"
    return config


JSON_LOGS = json_logs_enabled()
if JSON_LOGS:
    # Airflow reads [logging] json_logs right after importing this module (airflow.logging_config).
    conf.set("logging", "json_logs", "True")

LOGGING_CONFIG: dict[str, Any] = build_logging_config(DEFAULT_LOGGING_CONFIG)
