"""Every Airflow command the task definitions run is one Airflow 3.3.2's own CLI parser accepts.

The official image's entrypoint passes a container command that is not ``bash``/``python`` to
``airflow`` (https://airflow.apache.org/docs/docker-stack/entrypoint.html), so a mistyped flag
or subcommand would only show up as a crash-looping service after a deploy. The parser runs in a
fresh interpreter: Airflow's configuration is process-wide, and the Celery commands exist only
with ``[core] executor = CeleryExecutor`` (as on ECS).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.infra.test_stack import task_definitions

if TYPE_CHECKING:
    from tests.infra.conftest import Synthesized

PARSE_ALL = """
import json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
for argv in json.loads(sys.argv[1]):
    try:
        parser.parse_args(argv)
    except SystemExit:
        print("REFUSED", json.dumps(argv))
        raise
print("OK")
"""


def airflow_commands(stack: Synthesized) -> list[list[str]]:
    """Arguments given to ``airflow``: container commands and ``airflow ...`` health checks."""
    found: list[list[str]] = []
    for properties in task_definitions(stack).values():
        for definition in properties["ContainerDefinitions"]:
            # The component, and the init containers that migrate or wait for the metadata DB.
            if definition["Name"] not in ("airflow", "db-migrate", "wait-for-migrations"):
                continue
            command = definition["Command"]
            found.append(command[1:] if command[0] == "airflow" else command)
            check = definition.get("HealthCheck", {}).get("Command", [])
            if check[:1] == ["CMD-SHELL"] and check[1].startswith("airflow "):
                found.append(shlex.split(check[1].split("||")[0])[1:])
    return found


def test_every_airflow_command_is_accepted_by_airflows_parser(example: Synthesized, tmp_path: Path) -> None:
    commands = airflow_commands(example)
    # api-server, scheduler, dag-processor, triggerer, worker, standalone, two `jobs check` health
    # checks, `db migrate` and three `db check-migrations`.
    assert len(commands) == 12
    assert all(command[0] not in ("bash", "python") for command in commands)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__EXECUTOR": example.settings.airflow.executor,
    }
    completed = subprocess.run(
        [sys.executable, "-c", PARSE_ALL, json.dumps(commands)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "OK"


def test_a_mistyped_flag_is_refused(tmp_path: Path) -> None:
    """The check above can fail: the parser refuses an option `airflow api-server` does not have."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(tmp_path),
    }
    completed = subprocess.run(
        [sys.executable, "-c", PARSE_ALL, json.dumps([["api-server", "--workers-timeout", "120"]])],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode != 0
    assert "REFUSED" in completed.stdout
