"""Pricing arithmetic on a small known template, with every expectation computed by hand.

us-east-1 prices (prices.yaml): ARM Fargate $0.03238/vCPU-h and $0.00356/GB-h, x86 $0.04048 and
$0.004445, Spot discount 0.67, public IPv4 $0.005/h, ALB $0.0225/h + $0.008/LCU-h, RDS
db.t4g.micro $0.016/h, gp3 $0.115/GB-month, secret $0.40, custom metric $0.30, alarm $0.10,
PutMetricData $0.01/1000, logs $0.50/GB + $0.03/GB-month, S3 $0.023/GB-month, SQS $0.40/million,
ECR $0.10/GB-month. A month is 730 h = 30.41667 days.
"""

from __future__ import annotations

import pytest

from deploy_airflow_on_ecs_fargate.autoscaler.metrics import MetricsPublisher, PoolSample
from deploy_airflow_on_ecs_fargate.config import CostConfig
from deploy_airflow_on_ecs_fargate.cost.estimate import (
    AUTOSCALER_METRICS_PER_POOL,
    AUTOSCALER_SEED_METRICS,
    Estimate,
    estimate,
)
from deploy_airflow_on_ecs_fargate.cost.price_table import PriceTable, PriceTableError
from deploy_airflow_on_ecs_fargate.cost.template_reader import read_template

from .template_fixture import small_template

DAYS = 730 / 24


def _estimate(
    table: PriceTable, assumptions: CostConfig, task_hours: float = 24.0, template: dict | None = None
) -> Estimate:
    return estimate(read_template(template or small_template()), table, "us-east-1", assumptions, task_hours)


def test_every_line_of_the_small_template(table: PriceTable, assumptions: CostConfig) -> None:
    result = _estimate(table, assumptions)
    worker_hours = 24 / (8 * 0.75) * DAYS  # 4 worker-hours a day (24 task-hours, 8 slots, 75% busy)
    task_log_gb = 24 * DAYS * 0.005  # 3.65 GB of task logs a month
    expected = {
        # 0.5 vCPU x 0.03238 + 2 GB x 0.00356 = 0.02331 $/h, x 730 h
        "Fargate: api-server": (17.0163, 17.0163),
        # 0.5 x 0.03238 + 1 x 0.00356 = 0.01975 $/h, x 730 h
        "Fargate: scheduler": (14.4175, 14.4175),
        # idle: 0 workers. Load: 121.67 h x (1 x 0.03238 + 2 x 0.00356) x (1 - 0.67)
        "Fargate: worker-default": (0.0, worker_hours * 0.0395 * 0.33),
        # 730 x (0.0225 + 0.05 LCU x 0.008)
        "Application Load Balancer": (16.717, 16.717),
        # (2 ALB addresses + 2 always-on tasks) x 730 h x 0.005, plus 121.67 worker-hours x 0.005 under load
        "Public IPv4 addresses": (14.60, 14.60 + worker_hours * 0.005),
        "VPC endpoints": (0.0, 0.0),  # one S3 gateway endpoint: free
        # 0.016 x 730 + 20 GB x 0.115
        "RDS PostgreSQL": (13.98, 13.98),
        "Secrets Manager": (0.80, 0.80),  # 2 x 0.40
        # (3 allow-listed statsd names + 5 autoscaler metrics x 1 pool) x 0.30
        "CloudWatch custom metrics": (2.40, 2.40),
        # scheduler's agent 730 x 60 + autoscaler 1 namespace x 730 x 60 = 87,600 requests x 0.01/1000
        "CloudWatch PutMetricData": (0.876, 0.876),
        "CloudWatch alarms": (0.10, 0.10),
        # idle: 2 services x 0.5 GB = 1 GB: 1 x 0.50 + 1 x 30/30.4 months x 0.03.
        # Load: + 3.65 GB of task logs = 4.65 GB: 4.65 x 0.50 + 4.65 x 30/30.4 x 0.03.
        "CloudWatch Logs": (0.5 + 30 / 30.4 * 0.03, 4.65 * 0.5 + 4.65 * 30 / 30.4 * 0.03),
        # task logs kept 90 days (lifecycle rule): 3.65 GB x 90/30.4 months x 0.023
        "S3": (0.0, task_log_gb * 90 / 30.4 * 0.023),
        # 121.67 worker-hours x 360 requests x 0.40 / 1e6
        "SQS": (0.0, worker_hours * 360 * 0.40 / 1e6),
        "ECR": (0.50, 0.50),  # lifecycle keeps 5 images x 1 GB x 0.10
    }
    assert [line.component for line in result.lines] == list(expected)
    for line in result.lines:
        idle, busy = expected[line.component]
        assert line.idle == pytest.approx(idle, abs=1e-4), line.component
        assert line.workload == pytest.approx(busy, abs=1e-4), line.component
    assert result.idle_total == pytest.approx(sum(idle for idle, _ in expected.values()), abs=1e-3)
    assert result.idle_total == pytest.approx(81.94, abs=0.01)
    assert result.worker_hours_per_day == pytest.approx(4.0)


def test_mwaa_arithmetic(table: PriceTable, assumptions: CostConfig) -> None:
    result = _estimate(table, assumptions, task_hours=240)
    small, medium, large = result.mwaa
    # Environment 0.49 x 730 = 357.70, metadata 10 GB x 0.10 = 1.00.
    assert small.environment == pytest.approx(357.70)
    assert small.metadata == pytest.approx(1.0)
    # 240 task-hours / (5 tasks x 0.75) = 64 worker-hours a day; the included worker covers 24:
    # 40 extra a day x 30.4167 days x 0.055 = 66.9167.
    assert small.additional_worker_hours_per_day == pytest.approx(40)
    assert small.additional_workers == pytest.approx(40 * DAYS * 0.055)
    assert small.total == pytest.approx(357.70 + 66.9167 + 1.0, abs=1e-3)
    # medium: 240 / (10 x 0.75) = 32 a day, 8 extra x 30.4167 x 0.11; large: 16 a day, none extra.
    assert medium.additional_workers == pytest.approx(8 * DAYS * 0.11)
    assert large.additional_workers == 0
    assert large.total == pytest.approx(0.99 * 730 + 1.0)
    # Idle MWAA still pays the environment: no scale to zero.
    assert [item.total for item in result.mwaa_idle] == pytest.approx([358.70, 0.74 * 730 + 1, 723.70])


def test_x86_costs_the_x86_price(table: PriceTable, assumptions: CostConfig) -> None:
    template = small_template()
    template["Resources"]["ApiServerTask"]["Properties"]["RuntimePlatform"]["CpuArchitecture"] = "X86_64"
    line = _estimate(table, assumptions, template=template).line("Fargate: api-server")
    # (0.5 x 0.04048 + 2 x 0.004445) x 730 = 0.02913 x 730
    assert line.idle == pytest.approx(21.2649)


def test_scheduled_actions_in_the_template_scale_the_line(table: PriceTable, assumptions: CostConfig) -> None:
    template = small_template()
    template["Resources"]["SchedulerTarget"]["Properties"]["ScheduledActions"] = [
        {
            "ScheduledActionName": "down",
            "Schedule": "cron(0 20 ? * MON-FRI *)",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0},
        },
        {
            "ScheduledActionName": "up",
            "Schedule": "cron(0 7 ? * MON-FRI *)",
            "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 3},
        },
    ]
    line = _estimate(table, assumptions, template=template).line("Fargate: scheduler")
    # 14.4175 x (261 weekdays x 13 h / 8760 h)
    assert line.idle == pytest.approx(14.4175 * 261 * 13 / 8760)
    assert "scaled down 61% of hours" in line.detail


def test_debug_logging_multiplies_the_log_line(table: PriceTable, assumptions: CostConfig) -> None:
    template = small_template()
    for task in ("ApiServerTask", "SchedulerTask"):
        for variable in template["Resources"][task]["Properties"]["ContainerDefinitions"][0]["Environment"]:
            if variable["Name"] == "AIRFLOW__LOGGING__LOGGING_LEVEL":
                variable["Value"] = "DEBUG"
    info = _estimate(table, assumptions).line("CloudWatch Logs")
    debug = _estimate(table, assumptions, template=template)
    assert debug.line("CloudWatch Logs").idle == pytest.approx(10 * info.idle)
    assert any("DEBUG" in note for note in debug.notes)


def test_an_instance_class_without_a_price_is_named(table: PriceTable, assumptions: CostConfig) -> None:
    template = small_template()
    template["Resources"]["Database"]["Properties"]["DBInstanceClass"] = "db.r8g.48xlarge"
    with pytest.raises(PriceTableError, match=r"no RDS PostgreSQL instance price for db.r8g.48xlarge in us-east-1"):
        _estimate(table, assumptions, template=template)


def test_autoscaler_metric_counts_match_what_it_publishes() -> None:
    publisher = MetricsPublisher(client=None, namespace="own", seed_namespace="seed", cluster="c", period_seconds=60)  # type: ignore[arg-type]
    publisher.record(
        [PoolSample(pool="default", queued=1, running=1, current=1, desired=1, busy=1, concurrency=8)], now=0
    )
    per_namespace: dict[str, int] = {}
    for namespace, *_ in publisher._stats:
        per_namespace[namespace] = per_namespace.get(namespace, 0) + 1
    assert per_namespace == {"own": AUTOSCALER_METRICS_PER_POOL, "seed": AUTOSCALER_SEED_METRICS}


def test_mwaa_extra_schedulers(table: PriceTable) -> None:
    assumptions = CostConfig(mwaa_extra_schedulers=1)  # type: ignore[call-arg]
    small = _estimate(table, assumptions).mwaa[0]
    # One scheduler beyond the included two: 730 h x 0.055 = 40.15 on top of 357.70 + 1.00.
    assert small.additional_schedulers == pytest.approx(40.15)
    assert small.total == pytest.approx(357.70 + 40.15 + 1.0)
