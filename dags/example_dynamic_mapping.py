"""Dynamic task mapping: one mapped task instance per element of an upstream result."""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import dag, task

log = logging.getLogger(__name__)


@dag(
    dag_id="example_dynamic_mapping",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["example"],
)
def example_dynamic_mapping() -> None:
    @task
    def numbers() -> list[int]:
        return [1, 2, 3, 4, 5]

    @task
    def square(number: int) -> int:
        return number * number

    @task
    def total(squares: list[int]) -> int:
        result = sum(squares)
        log.info("sum of squares = %d", result)
        return result

    total(square.expand(number=numbers()))


example_dynamic_mapping()
