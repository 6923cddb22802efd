"""Sensitivity on the real synthesized stack: each change moves its own line and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from deploy_airflow_on_ecs_fargate.config import CostConfig
from deploy_airflow_on_ecs_fargate.cost.estimate import Estimate, estimate
from deploy_airflow_on_ecs_fargate.cost.price_table import PriceTable, RegionPrices
from deploy_airflow_on_ecs_fargate.cost.readme import default_settings
from deploy_airflow_on_ecs_fargate.cost.template_reader import read_template

WORKLOAD = 48.0
WORKER = "Fargate: worker-default"


def _run(template: dict[str, Any], table: PriceTable, assumptions: CostConfig) -> Estimate:
    return estimate(read_template(template), table, "us-east-1", assumptions, WORKLOAD)


def _worker_resources(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default pool's ECS service and task definition, found the way the reader finds them."""
    resources = template["Resources"]
    service_id = read_template(template).worker().logical_id
    service = resources[service_id]["Properties"]
    return service, resources[service["TaskDefinition"]["Ref"]]["Properties"]


def _differences(before: Estimate, after: Estimate) -> dict[str, tuple[float, float]]:
    """Lines whose idle or workload figure changed: component -> (idle change, workload change)."""
    old = {line.component: line for line in before.lines}
    new = {line.component: line for line in after.lines}
    changed = {}
    for component in old.keys() | new.keys():
        a, b = old.get(component), new.get(component)
        idle = (b.idle if b else 0.0) - (a.idle if a else 0.0)
        busy = (b.workload if b else 0.0) - (a.workload if a else 0.0)
        if abs(idle) > 1e-9 or abs(busy) > 1e-9:
            changed[component] = (idle, busy)
    return changed


def test_the_default_stack_is_what_the_config_says(
    default_template: dict[str, Any], table: PriceTable, assumptions: CostConfig
) -> None:
    settings = default_settings()
    result = _run(default_template, table, assumptions)
    names = [line.component for line in result.lines]
    for name in ("api-server", "scheduler", "dag-processor", "triggerer", "worker-default"):
        assert f"Fargate: {name}" in names
    assert "NAT gateways" not in names  # aws.nat_gateways is 0 by default
    pool = settings.worker_pools[0]
    worker = read_template(default_template).worker()
    assert (worker.task.cpu_units, worker.task.memory_mib, worker.concurrency) == (
        pool.cpu,
        pool.memory_mib,
        pool.concurrency,
    )
    assert worker.task.architecture == settings.aws.architecture == "ARM64"
    assert worker.capacity.label == "Spot"
    assert result.line(WORKER).idle == 0  # min_workers 0: idle workers cost nothing
    assert result.not_priced == {} or set(result.not_priced) <= {"AWS::Logs::LogStream"}


def test_doubling_worker_memory_raises_the_worker_line_and_nothing_else(
    default_template: dict[str, Any], table: PriceTable, us_east_1: RegionPrices, assumptions: CostConfig
) -> None:
    before = _run(default_template, table, assumptions)
    _, task = _worker_resources(default_template)
    memory_gb = int(task["Memory"]) / 1024
    task["Memory"] = str(int(task["Memory"]) * 2)
    after = _run(default_template, table, assumptions)
    changed = _differences(before, after)
    assert set(changed) == {WORKER}
    idle_change, busy_change = changed[WORKER]
    assert idle_change == 0  # no worker runs while idle
    # Extra memory x worker-hours x ARM GB-hour price x (1 - Spot discount).
    worker_hours = before.worker_hours_per_day * 730 / 24
    expected = (
        memory_gb * worker_hours * us_east_1.fargate.linux_arm_gb_hour.usd * (1 - us_east_1.fargate.spot_discount.usd)
    )
    assert busy_change == pytest.approx(expected)
    assert busy_change > 0


def test_on_demand_workers_cost_the_spot_discount_more(
    default_template: dict[str, Any], table: PriceTable, us_east_1: RegionPrices, assumptions: CostConfig
) -> None:
    before = _run(default_template, table, assumptions)
    service, _ = _worker_resources(default_template)
    service["CapacityProviderStrategy"] = [{"CapacityProvider": "FARGATE", "Weight": 1}]
    after = _run(default_template, table, assumptions)
    assert set(_differences(before, after)) == {WORKER}
    spot, on_demand = before.line(WORKER).workload, after.line(WORKER).workload
    assert spot == pytest.approx(on_demand * (1 - us_east_1.fargate.spot_discount.usd))
    assert "on-demand" in after.line(WORKER).detail


def test_removing_the_load_balancer_removes_its_line_and_its_addresses(
    default_template: dict[str, Any], table: PriceTable, us_east_1: RegionPrices, assumptions: CostConfig
) -> None:
    before = _run(default_template, table, assumptions)
    resources = default_template["Resources"]
    [balancer] = [
        key for key, value in resources.items() if value["Type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    ]
    zones = len(resources[balancer]["Properties"]["Subnets"])
    assert zones == default_settings().aws.max_azs
    del resources[balancer]
    after = _run(default_template, table, assumptions)
    changed = _differences(before, after)
    assert set(changed) == {"Application Load Balancer", "Public IPv4 addresses"}
    assert "Application Load Balancer" not in [line.component for line in after.lines]
    # One address per Availability Zone: zones x 730 h x $0.005.
    addresses = zones * 730 * us_east_1.vpc.public_ipv4_hour.usd
    assert changed["Public IPv4 addresses"] == pytest.approx((-addresses, -addresses))


def test_scheduled_scaling_in_the_synthesized_stack(
    default_template: dict[str, Any], lean_template: dict[str, Any], table: PriceTable, assumptions: CostConfig
) -> None:
    default = _run(default_template, table, assumptions)
    lean = _run(lean_template, table, assumptions)
    share = 261 * 13 / 8760  # weekdays 07:00-20:00 UTC in 2026 (see test_schedule.py)
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        assert lean.line(f"Fargate: {name}").idle == pytest.approx(default.line(f"Fargate: {name}").idle * share)
    # The fixed charges do not sleep: the ALB, the database, the secrets.
    for component in ("Application Load Balancer", "RDS PostgreSQL", "Secrets Manager"):
        assert lean.line(component).idle == default.line(component).idle
    assert lean.idle_total < default.idle_total
