"""`ecsflow cost`: the monthly bill of the configured stack, idle and under a workload, next to MWAA.

The stack is synthesized in-process (no AWS account needed) and priced from the dated table in
deploy_airflow_on_ecs_fargate/cost/prices.yaml. CDK, pydantic models and matplotlib are imported
inside the command so `ecsflow --help` stays fast.
"""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated

import typer

from deploy_airflow_on_ecs_fargate.cli.errors import CliError, UsageError, handle_errors


class CostOutput(enum.StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


@handle_errors
def cost_command(
    task_hours_per_day: Annotated[
        float | None,
        typer.Option(
            "--task-hours-per-day",
            min=0,
            help="Workload: hours of Airflow tasks run per day (default: cost.task_hours_per_day)",
        ),
    ] = None,
    pool: Annotated[
        str | None, typer.Option("--pool", help="Worker pool that runs the workload (default: Airflow's default queue)")
    ] = None,
    worker_cpu: Annotated[
        int | None,
        typer.Option("--worker-cpu", help="Price the pool's workers with this many CPU units (1024 = 1 vCPU)"),
    ] = None,
    worker_memory: Annotated[
        int | None, typer.Option("--worker-memory", help="Price the pool's workers with this much memory (MiB)")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Price in this region (default: $AWS_REGION, then aws.region)")
    ] = None,
    output: Annotated[
        CostOutput,
        typer.Option(
            "--output", "-o", help="table for people, json for scripts, markdown for docs", case_sensitive=False
        ),
    ] = CostOutput.table,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw monthly cost against workload (this stack vs MWAA) to a PNG"),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", help="Config file (default: $ECSFLOW_CONFIG, then ecsflow.yaml at the repo root)"),
    ] = None,
) -> None:
    """Monthly cost of the synthesized stack per component, idle and under load, next to Amazon MWAA."""
    from deploy_airflow_on_ecs_fargate.cli.aws_session import resolve_region
    from deploy_airflow_on_ecs_fargate.config import load_config
    from deploy_airflow_on_ecs_fargate.cost.price_table import PriceTableError
    from deploy_airflow_on_ecs_fargate.cost.report import print_tables, to_json, to_markdown
    from deploy_airflow_on_ecs_fargate.cost.schedule import ScheduleError
    from deploy_airflow_on_ecs_fargate.cost.stack_cost import CostError, estimate_for, stack_resources, with_overrides
    from deploy_airflow_on_ecs_fargate.cost.template_reader import TemplateError

    if plot is not None and plot.suffix.lower() != ".png":
        raise UsageError(f"--plot writes a PNG file: {plot} does not end in .png")
    settings = load_config(config)
    try:
        settings = with_overrides(settings, resolve_region(region, settings), pool, worker_cpu, worker_memory)
        resources = stack_resources(settings)
        result = estimate_for(settings, task_hours_per_day, pool, resources)
    except (CostError, PriceTableError) as error:
        raise UsageError(str(error)) from None
    except (TemplateError, ScheduleError) as error:
        raise CliError(f"cannot price the synthesized template: {error}") from None

    if output is CostOutput.json:
        from deploy_airflow_on_ecs_fargate.cli.output import print_json

        print_json(to_json(result))
    elif output is CostOutput.markdown:
        sys.stdout.write(to_markdown(result))
    else:
        print_tables(result)
    if plot is not None:
        from deploy_airflow_on_ecs_fargate.cost.plot import plot_cost_curve

        try:
            plot_cost_curve(result, resources, settings, plot, pool)
        except OSError as error:
            raise CliError(f"cannot write {plot}: {error.strerror or error}") from None
        print(f"plot written to {plot}", file=sys.stderr)  # noqa: T201 (stdout may hold JSON)
