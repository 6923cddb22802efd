"""`ecsflow local ...`: the embedded local environment (real Postgres, AWS emulated by moto, no Docker).

Only typer, rich and the standard library are imported here; the environment's modules (pydantic,
boto3, psutil, ...) are imported inside the commands so `ecsflow --help` stays fast.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from deploy_airflow_on_ecs_fargate.config import Settings

app = typer.Typer(
    help="The embedded local environment: real Postgres, AWS emulated by moto, no Docker.", no_args_is_help=True
)
console = Console()
errors = Console(stderr=True)

HEALTH_STYLE = {"healthy": "green", "running": "green", "unhealthy": "red", "crashed": "red", "stopped": "dim"}


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr and a non-zero exit: never a traceback for bad input."""
    errors.print(f"ecsflow: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    from deploy_airflow_on_ecs_fargate.config import ConfigError, load_config

    try:
        return load_config()
    except ConfigError as error:
        fail(str(error))


@app.command()
def up(
    foreground: Annotated[
        bool, typer.Option("--foreground", help="Run in this terminal (Ctrl-C stops everything) instead of detaching.")
    ] = False,
) -> None:
    """Start PostgreSQL, moto and every Airflow component; return once all are healthy."""
    settings = settings_or_exit()
    from deploy_airflow_on_ecs_fargate.local import control
    from deploy_airflow_on_ecs_fargate.local.environment import api_url
    from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError
    from deploy_airflow_on_ecs_fargate.local.layout import Layout

    layout = Layout.of(settings)
    if control.running_supervisor(layout) is not None:
        console.print(f"The local environment is already running: {api_url(settings)}")
        console.print("  ./ecsflow local status   |   ./ecsflow local down")
        return
    try:
        # Leftovers of a run whose supervisor died would hold the ports: clear them first.
        control.stop(settings)
        control.preflight(settings)
    except LocalEnvironmentError as error:
        fail(str(error))
    if foreground:
        from deploy_airflow_on_ecs_fargate.local.supervisor import Supervisor, configure_logging

        configure_logging()
        console.print(f"Starting in the foreground (Ctrl-C stops); UI: {api_url(settings)}")
        raise typer.Exit(Supervisor(settings).run())

    started = time.monotonic()
    try:
        with console.status("Starting the local environment...") as spinner:
            control.start_in_background(settings, lambda message: spinner.update(f"{message}..."))
    except LocalEnvironmentError as error:
        fail(str(error), code=1)
    except KeyboardInterrupt:
        fail("interrupted; everything started was stopped", code=130)
    console.print(f"[green]Airflow is up[/] in {time.monotonic() - started:.1f} s: [bold]{api_url(settings)}[/]")
    console.print(
        f"  user [bold]{settings.airflow.admin_username}[/], password [bold]{settings.local.admin_password}[/]"
    )
    console.print(f"  data and logs in {layout.data_dir}")
    console.print("  ./ecsflow local status   |   ./ecsflow local logs scheduler   |   ./ecsflow local down")


@app.command()
def status(
    output: Annotated[str, typer.Option("--output", "-o", help="table or json")] = "table",
) -> None:
    """Each component's PID, whether it runs, and its health (heartbeats from the api-server)."""
    if output not in {"table", "json"}:
        fail(f"--output must be table or json, not {output!r}")
    settings = settings_or_exit()
    from deploy_airflow_on_ecs_fargate.local import control

    report = control.status(settings)
    if output == "json":
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    console.print(f"Local environment: [bold]{report['phase']}[/] ({report['message']})  {report['url']}")
    table = Table("component", "pid", "health", "restarts", "detail")
    for row in report["components"]:
        style = HEALTH_STYLE.get(row["health"], "yellow")
        table.add_row(
            row["name"], str(row["pid"] or "-"), f"[{style}]{row['health']}[/]", str(row["restarts"]), row["detail"]
        )
    console.print(table)


@app.command()
def down() -> None:
    """Stop everything the local environment started (by PID: SIGTERM, then SIGKILL after a timeout)."""
    settings = settings_or_exit()
    from deploy_airflow_on_ecs_fargate.local import control

    with console.status("Stopping the local environment..."):
        stopped = control.stop(settings)
    console.print("Stopped: " + ", ".join(stopped) if stopped else "Nothing was running.")


@app.command()
def logs(
    component: Annotated[str, typer.Argument(help="e.g. api-server, scheduler, dag-processor, triggerer, moto")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many last lines to print first")] = 50,
) -> None:
    """Print a component's log file (<data_dir>/logs/<component>.log)."""
    settings = settings_or_exit()
    from deploy_airflow_on_ecs_fargate.local.layout import Layout

    layout = Layout.of(settings)
    log_file = layout.log_file(component)
    if not log_file.exists():
        known = sorted(path.stem for path in layout.logs_dir.glob("*.log")) if layout.logs_dir.exists() else []
        fail(f"no log for {component!r}; known: {', '.join(known) or 'none (never started)'}")
    _print_log(log_file, lines, follow)


def _print_log(log_file: Path, lines: int, follow: bool) -> None:
    from collections import deque

    with log_file.open("r", encoding="utf-8", errors="replace") as handle:
        for line in deque(handle, maxlen=max(lines, 0)):
            sys.stdout.write(line)
        sys.stdout.flush()
        if not follow:
            return
        try:
            while True:
                chunk: Any = handle.read()
                if chunk:
                    sys.stdout.write(chunk)
                    sys.stdout.flush()
                else:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            return
