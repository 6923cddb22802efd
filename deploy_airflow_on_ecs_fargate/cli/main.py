"""The ecsflow command line: the root Typer app and its command groups.

Each group lives in its own module; they import only typer/rich at module level so
``ecsflow --help`` stays fast (Airflow, boto3 and CDK are imported inside commands).
"""

from __future__ import annotations

import typer

from deploy_airflow_on_ecs_fargate.cli import cost, lifecycle, local

app = typer.Typer(
    name="ecsflow",
    help="Apache Airflow 3 on Amazon ECS Fargate: local environment, deploy and operations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(local.app, name="local")
lifecycle.register(app)
app.command("cost")(cost.cost_command)
