"""Two trivial tasks: what `benchmarks/local_environment.py` times from trigger to success."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="benchmark_two_tasks",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["benchmark"],
)
def benchmark_two_tasks() -> None:
    @task
    def first() -> int:
        return 1

    @task
    def second(value: int) -> int:
        return value + 1

    second(first())


benchmark_two_tasks()
