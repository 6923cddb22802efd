"""A real Celery app (filesystem broker, prefork pool) whose worker imports task_protection."""

from __future__ import annotations

import os
import time

from celery import Celery

import deploy_airflow_on_ecs_fargate.autoscaler.task_protection  # noqa: F401 (connects the signals)

BROKER_DIR = os.environ["TEST_BROKER_DIR"]

app = Celery("protection_test")
app.conf.update(
    broker_url="filesystem://",
    # Everything under the test's temp dir (the control folder defaults to ./control).
    broker_transport_options={
        "data_folder_in": BROKER_DIR,
        "data_folder_out": BROKER_DIR,
        "control_folder": BROKER_DIR,
    },
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
)


@app.task(name="sleep")
def sleep(seconds: float) -> None:
    time.sleep(seconds)
