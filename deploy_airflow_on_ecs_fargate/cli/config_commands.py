"""`ecsflow config show | validate`: the effective configuration (ecsflow.yaml + ECSFLOW_* overrides)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from deploy_airflow_on_ecs_fargate.cli.errors import handle_errors
from deploy_airflow_on_ecs_fargate.cli.output import OutputFormat, OutputOption, console, print_json

app = typer.Typer(help="Show or check the configuration (ecsflow.yaml plus ECSFLOW_* variables).", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (default: $ECSFLOW_CONFIG, then ecsflow.yaml at the repo root)"),
]


@app.command("show")
@handle_errors
def show(config: ConfigOption = None, output: OutputOption = OutputFormat.table) -> None:
    """Print the effective configuration, defaults included (YAML, or JSON with --output json)."""
    import yaml

    from deploy_airflow_on_ecs_fargate.config import load_config

    data = load_config(config).model_dump(mode="json")
    if output is OutputFormat.json:
        print_json(data)
    else:
        # Plain text, never wrapped: the output is valid YAML to copy into ecsflow.yaml.
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False))


@app.command("validate")
@handle_errors
def validate(config: ConfigOption = None) -> None:
    """Check the configuration; every problem on its own line, exit code 2 when there is one."""
    from deploy_airflow_on_ecs_fargate.config import config_path, load_config

    load_config(config)
    console.print(f"configuration OK: {config_path(config)}", highlight=False)
