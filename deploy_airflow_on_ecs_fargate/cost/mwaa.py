"""The same workload on Amazon MWAA, for comparison.

An MWAA environment bills its class's hourly price for every hour it exists (two schedulers,
web server and one worker included), extra workers by the worker-hour, extra schedulers by the
hour, and the metadata database by the GB-month. https://aws.amazon.com/managed-workflows-for-apache-airflow/pricing/

The comparison is kind to MWAA: the included worker is assumed busy before any extra worker
starts, and MWAA's own NAT gateways or VPC endpoints (its private subnets need one or the
other) are not added.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploy_airflow_on_ecs_fargate.cost.price_table import MwaaPrices

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class MwaaEstimate:
    environment_class: str
    tasks_per_worker: int
    environment: float  # USD per month
    additional_workers: float
    additional_worker_hours_per_day: float
    additional_schedulers: float
    metadata: float

    @property
    def total(self) -> float:
        return self.environment + self.additional_workers + self.additional_schedulers + self.metadata


def mwaa_estimates(
    prices: MwaaPrices,
    task_hours_per_day: float,
    worker_utilization: float,
    metadata_gb: float,
    hours_per_month: float,
    extra_schedulers: int = 0,
) -> list[MwaaEstimate]:
    """Monthly MWAA bill of each environment class for ``task_hours_per_day`` of Airflow tasks."""
    days_per_month = hours_per_month / HOURS_PER_DAY
    estimates = []
    for name, environment_class in prices.classes.items():
        worker_hours = task_hours_per_day / (environment_class.tasks_per_worker * worker_utilization)
        # The environment's own worker runs all day; only the hours beyond it are extra workers.
        extra_hours = max(0.0, worker_hours - HOURS_PER_DAY)
        estimates.append(
            MwaaEstimate(
                environment_class=name,
                tasks_per_worker=environment_class.tasks_per_worker,
                environment=environment_class.environment_hour.usd * hours_per_month,
                additional_workers=extra_hours * days_per_month * environment_class.additional_worker_hour.usd,
                additional_worker_hours_per_day=extra_hours,
                additional_schedulers=extra_schedulers
                * hours_per_month
                * environment_class.additional_scheduler_hour.usd,
                metadata=metadata_gb * prices.metadata_gb_month.usd,
            )
        )
    return estimates
