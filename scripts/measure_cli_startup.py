#!/usr/bin/env python3
"""Measure how fast `ecsflow --help` starts: repeated runs (CPU and wall time) and the import breakdown.

    .venv/bin/python scripts/measure_cli_startup.py [--runs 15]

CPU time (user + sys of the child) is reported next to wall time because wall time on a busy
machine measures the machine, not the command.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COMMANDS = {
    "ecsflow --help": [PYTHON, "-m", "deploy_airflow_on_ecs_fargate.cli", "--help"],
    "ecsflow run-task --help": [PYTHON, "-m", "deploy_airflow_on_ecs_fargate.cli", "run-task", "--help"],
    "python -c pass (interpreter alone)": [PYTHON, "-c", "pass"],
    "python -c 'import boto3' (what --help avoids)": [PYTHON, "-c", "import boto3"],
}
TOP_IMPORTS = 8


def timed(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)  # warm the file cache
    cpu, wall = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, capture_output=True, check=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return cpu, wall


def import_breakdown() -> list[tuple[int, str]]:
    """Cumulative import time (microseconds) of the top-level imports of `ecsflow --help`."""
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-m", "deploy_airflow_on_ecs_fargate.cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and not match.group(2).startswith(" "):
            rows.append((int(match.group(1)), match.group(2)))
    return sorted(rows, reverse=True)[:TOP_IMPORTS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for name, command in COMMANDS.items():
        cpu, wall = timed(command, args.runs)
        print(
            f"{name}: CPU median {statistics.median(cpu) * 1000:.0f} ms (min {min(cpu) * 1000:.0f}), "
            f"wall median {statistics.median(wall) * 1000:.0f} ms (min {min(wall) * 1000:.0f}), n={args.runs}"
        )
    print("slowest top-level imports of `ecsflow --help` (cumulative):")
    for micros, module in import_breakdown():
        print(f"  {micros / 1000:7.1f} ms  {module}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
