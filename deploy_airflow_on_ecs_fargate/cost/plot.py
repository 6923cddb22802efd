"""`ecsflow cost --plot FILE.png`: monthly cost against workload, this stack next to MWAA.

Every point is a full estimate of the same synthesized stack at that workload, so the curve shows
the real shape: a low idle floor, then a slope of Spot worker-hours, against MWAA's high floor.
matplotlib runs headless (Agg backend) and is imported only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.cost.estimate import Estimate
from deploy_airflow_on_ecs_fargate.cost.stack_cost import estimate_for
from deploy_airflow_on_ecs_fargate.cost.template_reader import StackResources

POINTS = 41


@dataclass(frozen=True)
class CostCurve:
    task_hours: list[float]
    stack: list[float]
    mwaa: dict[str, list[float]]


def cost_curve(resources: StackResources, settings: Settings, pool: str | None, max_task_hours: float) -> CostCurve:
    hours = [max_task_hours * index / (POINTS - 1) for index in range(POINTS)]
    stack: list[float] = []
    mwaa: dict[str, list[float]] = {}
    for value in hours:
        point = estimate_for(settings, value, pool, resources)
        stack.append(point.workload_total)
        for item in point.mwaa:
            mwaa.setdefault(item.environment_class, []).append(item.total)
    return CostCurve(hours, stack, mwaa)


def plot_cost_curve(
    estimate: Estimate, resources: StackResources, settings: Settings, path: Path, pool: str | None
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Up to four times the asked workload (at least 200 task-hours/day), so the crossing points show.
    limit = max(200.0, 4 * estimate.task_hours_per_day)
    curve = cost_curve(resources, settings, pool, limit)
    figure, axes = plt.subplots(figsize=(9, 5.5), dpi=110)
    axes.plot(curve.task_hours, curve.stack, linewidth=2.5, color="#1f77b4", label="this stack (ECS Fargate)")
    styles = [("--", "#ff7f0e"), ("-.", "#2ca02c"), (":", "#d62728")]
    for index, (name, totals) in enumerate(curve.mwaa.items()):
        style, color = styles[index % len(styles)]
        axes.plot(curve.task_hours, totals, linestyle=style, color=color, linewidth=1.8, label=f"MWAA {name}")
    axes.axvline(estimate.task_hours_per_day, color="grey", linewidth=0.8)
    axes.plot([estimate.task_hours_per_day], [estimate.workload_total], marker="o", color="#1f77b4")
    axes.annotate(
        f"{estimate.task_hours_per_day:g} task-hours/day: ${estimate.workload_total:,.0f}",
        xy=(estimate.task_hours_per_day, estimate.workload_total),
        xytext=(8, -16),
        textcoords="offset points",
        fontsize=9,
    )
    axes.set_xlim(0, limit)
    axes.set_ylim(0, None)
    axes.set_xlabel(f"Airflow task-hours per day (worker pool {estimate.worker_pool})")
    axes.set_ylabel("USD per month")
    axes.set_title(
        f"Monthly cost vs workload, {estimate.region} (prices checked {estimate.prices_checked.isoformat()})"
    )
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
