"""CloudWatch metrics of the autoscaler: what it saw and decided, per pool, for dashboards and alarms.

The controller polls every few seconds but publishes once per ``metrics_period_seconds`` (60 s:
the resolution of standard CloudWatch metrics) as statistic sets (min/max/sum/count of the polls
in the period), so a burst between two publications still shows in ``Maximum`` while
PutMetricData requests stay at one per namespace per minute (they are billed per 1,000).
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html#publishingDataPoints1

Namespace ``autoscaler.metrics_namespace``, dimension ``Pool``: DesiredWorkers, CurrentWorkers,
BusyWorkers, QueuedTasks, RunningTasks.

The seed's original stack (hankehly/deploy-airflow-on-ecs-fargate) published, from its
``scripts/put_airflow_worker_autoscaling_metric_data.py``, namespace ``DeployAirflowOnECSFargate``
with dimension ``ClusterName``: ``CapacityProviderReservation`` (Percent: needed workers /
current workers * 100, 100 when both are 0, 200 when work waits with no worker; needed counted at
5 tasks per worker there, at each pool's concurrency here) and ``NumberOfActiveRunningTasks``
(Count: queued + running task instances). They are published too (``seed_metrics_namespace``;
set it to null to stop) so dashboards and alarms built on them keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

SEED_RESERVATION_METRIC = "CapacityProviderReservation"
SEED_ACTIVE_TASKS_METRIC = "NumberOfActiveRunningTasks"


def capacity_provider_reservation(needed: float, current: int) -> float:
    """The seed's metric: M / N * 100, with its two special cases for N = 0."""
    if current == 0:
        return 100.0 if needed == 0 else 200.0
    return needed / current * 100.0


@dataclass
class _Stat:
    minimum: float = float("inf")
    maximum: float = float("-inf")
    total: float = 0.0
    count: int = 0

    def add(self, value: float) -> None:
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        self.total += value
        self.count += 1

    def as_statistic_values(self) -> dict[str, float]:
        return {"SampleCount": self.count, "Sum": self.total, "Minimum": self.minimum, "Maximum": self.maximum}


@dataclass(frozen=True)
class PoolSample:
    pool: str
    queued: int
    running: int
    current: int
    desired: int
    busy: int
    concurrency: int


@dataclass
class MetricsPublisher:
    client: CloudWatchClient
    namespace: str
    seed_namespace: str | None
    cluster: str
    period_seconds: float
    _stats: dict[tuple[str, str, str, str], _Stat] = field(default_factory=dict)
    _period_started: float | None = None

    def record(self, samples: list[PoolSample], now: float) -> None:
        """Add one poll's figures (only polls with data: an outage leaves a gap, not zeros)."""
        if self._period_started is None:
            self._period_started = now
        for s in samples:
            for name, value in (
                ("DesiredWorkers", s.desired),
                ("CurrentWorkers", s.current),
                ("BusyWorkers", s.busy),
                ("QueuedTasks", s.queued),
                ("RunningTasks", s.running),
            ):
                self._stat(self.namespace, name, "Pool", s.pool).add(value)
        if self.seed_namespace and samples:
            needed = sum((s.queued + s.running) / s.concurrency for s in samples)
            current = sum(s.current for s in samples)
            cluster = self.cluster or "local"
            self._stat(self.seed_namespace, SEED_RESERVATION_METRIC, "ClusterName", cluster).add(
                capacity_provider_reservation(needed, current)
            )
            self._stat(self.seed_namespace, SEED_ACTIVE_TASKS_METRIC, "ClusterName", cluster).add(
                sum(s.queued + s.running for s in samples)
            )

    def _stat(self, namespace: str, name: str, dimension: str, value: str) -> _Stat:
        return self._stats.setdefault((namespace, name, dimension, value), _Stat())

    def due(self, now: float) -> bool:
        return self._period_started is not None and now - self._period_started >= self.period_seconds

    def flush(self) -> int:
        """PutMetricData for everything recorded; returns the number of data points sent."""
        by_namespace: dict[str, list[Any]] = {}
        for (namespace, name, dimension, value), stat in self._stats.items():
            if stat.count:
                by_namespace.setdefault(namespace, []).append(
                    {
                        "MetricName": name,
                        "Dimensions": [{"Name": dimension, "Value": value}],
                        "StatisticValues": stat.as_statistic_values(),
                        "Unit": _unit(name),
                    }
                )
        sent = 0
        for namespace, data in by_namespace.items():
            # PutMetricData takes at most 1000 data points per call.
            for start in range(0, len(data), 1000):
                self.client.put_metric_data(Namespace=namespace, MetricData=data[start : start + 1000])
                sent += len(data[start : start + 1000])
        self._stats.clear()
        self._period_started = None
        return sent


def _unit(name: str) -> Any:
    return "Percent" if name == SEED_RESERVATION_METRIC else "Count"
