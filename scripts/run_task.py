#!/usr/bin/env python3
"""The seed's one-off task script, kept so its commands still work; it is `ecsflow run-task`.

    py -3 scripts/run_task.py --profile my-profile --wait-tasks-stopped --command 'db init'

is the same as ``./ecsflow run-task --profile my-profile --wait --command 'db init'`` (``db init``
becomes ``db migrate`` in Airflow 3, with a notice). See docs/cli.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    try:
        sys.path.insert(0, str(ROOT))
        from deploy_airflow_on_ecs_fargate.cli.main import app
    except ImportError:
        # Run with a Python that lacks the project's packages (e.g. `py -3`): go through the
        # launcher, which creates the project's virtualenv first.
        return subprocess.call([sys.executable, str(ROOT / "ecsflow"), "run-task", *argv])
    app(["run-task", *argv], prog_name="scripts/run_task.py")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
