"""A task that runs longer than a minute (outlives short timeouts, shows live progress)."""

from __future__ import annotations

import logging
import time

import pendulum
from airflow.sdk import dag, task

DURATION_SECONDS = 75

log = logging.getLogger(__name__)


@dag(
    dag_id="example_long_task",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["example"],
)
def example_long_task() -> None:
    @task
    def work_for_a_while() -> int:
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < DURATION_SECONDS:
            log.info("working... %.0f/%d s", elapsed, DURATION_SECONDS)
            time.sleep(15)
        return DURATION_SECONDS

    work_for_a_while()


example_long_task()
