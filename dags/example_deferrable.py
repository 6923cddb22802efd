"""A deferrable sensor: the worker slot is freed while the triggerer waits."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.sensors.time_delta import TimeDeltaSensor
from airflow.sdk import dag, task


@dag(
    dag_id="example_deferrable",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["example"],
)
def example_deferrable() -> None:
    # deferrable=True: the task defers to the triggerer (a TimeDeltaTrigger) instead of sleeping on a worker.
    wait = TimeDeltaSensor(task_id="wait_ten_seconds", delta=timedelta(seconds=10), deferrable=True)

    @task
    def after_wait() -> str:
        return "resumed after the triggerer fired"

    wait >> after_wait()


example_deferrable()
