"""Render an estimate: rich tables for the terminal, JSON for machines, Markdown for the README.

All three show the same numbers, rounded the same way, so the README's Cost section (generated
from the Markdown) matches what `ecsflow cost` prints.
"""

from __future__ import annotations

from typing import Any

from deploy_airflow_on_ecs_fargate.cost.estimate import Estimate
from deploy_airflow_on_ecs_fargate.cost.mwaa import MwaaEstimate


def usd(value: float) -> str:
    return f"${value:,.2f}"


def _workload_title(estimate: Estimate) -> str:
    return f"{estimate.task_hours_per_day:g} task-hours/day"


def _mwaa_rows(estimate: Estimate) -> list[tuple[str, str, str, str]]:
    rows = []
    for idle, busy in zip(estimate.mwaa_idle, estimate.mwaa, strict=True):
        extra = (
            f"{busy.additional_worker_hours_per_day:.1f} extra worker-hours/day ({busy.tasks_per_worker} tasks each)"
        )
        rows.append((f"MWAA {busy.environment_class}", extra, usd(idle.total), usd(busy.total)))
    return rows


def assumptions_line(estimate: Estimate) -> str:
    """The `cost` settings the figures rest on, as `name=value` pairs."""
    values = estimate.assumptions.model_dump()
    values.pop("task_hours_per_day")  # shown as the workload itself
    pairs = ", ".join(f"{name}={value:g}" for name, value in values.items())
    return f"Assumptions (`cost` section of ecsflow.yaml): {pairs}."


def summary(estimate: Estimate) -> str:
    cheapest = min(estimate.mwaa, key=lambda item: item.total)
    return (
        f"This stack: {usd(estimate.idle_total)}/month idle, {usd(estimate.workload_total)}/month at "
        f"{_workload_title(estimate)}; MWAA {cheapest.environment_class}: {usd(cheapest.total)}/month "
        f"({estimate.region}, prices checked {estimate.prices_checked.isoformat()})."
    )


def to_markdown(estimate: Estimate) -> str:
    """The estimate as Markdown tables (what the README's Cost section holds)."""
    workload = _workload_title(estimate)
    out = [
        f"Monthly cost in {estimate.region} (USD, on-demand list prices checked "
        f"{estimate.prices_checked.isoformat()}, {estimate.hours_per_month:g} hours a month). Idle: no Airflow "
        f"task runs. Under load: {workload} on the `{estimate.worker_pool}` worker pool "
        f"({estimate.worker_hours_per_day:.1f} worker-hours/day).",
        "",
        f"| Component | What | Idle | {workload} |",
        "|---|---|--:|--:|",
    ]
    for line in estimate.lines:
        out.append(f"| {line.component} | {line.detail} | {usd(line.idle)} | {usd(line.workload)} |")
    out.append(f"| **Total** | | **{usd(estimate.idle_total)}** | **{usd(estimate.workload_total)}** |")
    out += ["", f"| Same workload on Amazon MWAA | Workers | Idle | {workload} |", "|---|---|--:|--:|"]
    for name, extra, idle, busy in _mwaa_rows(estimate):
        out.append(f"| {name} | {extra} | {idle} | {busy} |")
    out += ["", assumptions_line(estimate)]
    if estimate.notes or estimate.not_priced:
        out.append("")
        for note in estimate.notes:
            out.append(f"- {note}")
        for resource_type, count in estimate.not_priced.items():
            out.append(f"- not priced: {resource_type} x {count}")
    return "\n".join(out) + "\n"


def _mwaa_json(item: MwaaEstimate) -> dict[str, Any]:
    return {
        "environment_class": item.environment_class,
        "environment": round(item.environment, 2),
        "additional_workers": round(item.additional_workers, 2),
        "additional_worker_hours_per_day": round(item.additional_worker_hours_per_day, 2),
        "additional_schedulers": round(item.additional_schedulers, 2),
        "metadata": round(item.metadata, 2),
        "total": round(item.total, 2),
    }


def to_json(estimate: Estimate) -> dict[str, Any]:
    return {
        "region": estimate.region,
        "currency": "USD",
        "period": "month",
        "hours_per_month": estimate.hours_per_month,
        "prices_checked": estimate.prices_checked.isoformat(),
        "task_hours_per_day": estimate.task_hours_per_day,
        "worker_pool": estimate.worker_pool,
        "worker_hours_per_day": round(estimate.worker_hours_per_day, 3),
        "components": [
            {
                "component": line.component,
                "detail": line.detail,
                "idle": round(line.idle, 2),
                "workload": round(line.workload, 2),
            }
            for line in estimate.lines
        ],
        "total": {"idle": round(estimate.idle_total, 2), "workload": round(estimate.workload_total, 2)},
        "mwaa": {
            "idle": [_mwaa_json(item) for item in estimate.mwaa_idle],
            "workload": [_mwaa_json(item) for item in estimate.mwaa],
        },
        "assumptions": estimate.assumptions.model_dump(),
        "notes": list(estimate.notes),
        "not_priced": estimate.not_priced,
    }


def print_tables(estimate: Estimate) -> None:
    from rich.console import Console
    from rich.table import Table

    workload = _workload_title(estimate)
    console = Console()
    stack = Table(
        title=f"Monthly cost in {estimate.region} (USD; prices checked {estimate.prices_checked.isoformat()})"
    )
    stack.add_column("Component")
    stack.add_column("What", overflow="fold")
    stack.add_column("Idle", justify="right")
    stack.add_column(workload, justify="right")
    for line in estimate.lines:
        stack.add_row(line.component, line.detail, usd(line.idle), usd(line.workload))
    stack.add_section()
    stack.add_row("Total", "", usd(estimate.idle_total), usd(estimate.workload_total), style="bold")
    console.print(stack)
    mwaa = Table(title="The same workload on Amazon MWAA")
    mwaa.add_column("Environment")
    mwaa.add_column("Workers", overflow="fold")
    mwaa.add_column("Idle", justify="right")
    mwaa.add_column(workload, justify="right")
    for row in _mwaa_rows(estimate):
        mwaa.add_row(*row)
    console.print(mwaa)
    console.print(assumptions_line(estimate).replace("`", ""), highlight=False)
    for note in estimate.notes:
        console.print(f"note: {note}", highlight=False)
    for resource_type, count in estimate.not_priced.items():
        console.print(f"not priced: {resource_type} x {count}", highlight=False)
    console.print(summary(estimate), highlight=False)
