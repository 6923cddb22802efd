"""Benchmark of the embedded local environment: start time and trigger-to-success latency.

Prints figures, asserts nothing. Runs in its own data directory on free ports, so it never touches
a local environment you already run:

    .venv/bin/python benchmarks/local_environment.py [--runs 5] [--worker-autoscaling false]

1. first start on an empty data directory (initdb, `airflow db migrate`, admin user);
2. restart on the kept data directory (the usual `./ecsflow local up`), the "cold start to all healthy";
3. trigger-to-success of the two-task DAG ``benchmark_two_tasks``, ``--runs`` times, p50 and max.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import httpx

from deploy_airflow_on_ecs_fargate.local.isolated import isolated_environment

REPO_ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "benchmark_two_tasks"


def ecsflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def timed_up(env: dict[str, str]) -> float:
    started = time.monotonic()
    result = ecsflow(env, "local", "up")
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"ecsflow local up failed: {result.stderr.strip()}")
    return elapsed


def trigger_to_success(api_url: str, runs: int) -> list[float]:
    token = httpx.post(f"{api_url}/auth/token", json={"username": "admin", "password": "admin"}, timeout=60)
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    durations = []
    with httpx.Client(base_url=f"{api_url}/api/v2", headers=headers, timeout=60) as client:
        for _ in range(runs):
            started = time.monotonic()
            run_id = client.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None}).json()["dag_run_id"]
            path = f"/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run_id, safe='')}"
            while (state := client.get(path).json()["state"]) not in {"success", "failed"}:
                time.sleep(0.1)
            if state != "success":
                raise SystemExit(f"{DAG_ID} run {run_id} ended {state}")
            durations.append(time.monotonic() - started)
            time.sleep(1)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="DAG runs for trigger-to-success")
    parser.add_argument("--worker-autoscaling", choices=["true", "false"], default=None, help="default: the config's")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="ecsflow-bench-local-"))
    env = isolated_environment(data_dir)
    if args.worker_autoscaling:
        env["ECSFLOW_LOCAL__WORKER_AUTOSCALING"] = args.worker_autoscaling
    print(f"machine: {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}", flush=True)
    try:
        first = timed_up(env)
        print(f"first start (empty data dir: initdb, db migrate, admin user): {first:.1f} s", flush=True)
        ecsflow(env, "local", "down")
        restart = timed_up(env)
        print(f"cold start to all healthy (kept data dir):                    {restart:.1f} s", flush=True)
        status = json.loads(ecsflow(env, "local", "status", "--output", "json").stdout)
        workers = [row["name"] for row in status["components"] if row["alive"]]
        print(f"running: {', '.join(workers)}", flush=True)
        durations = trigger_to_success(status["url"], args.runs)
        print(
            f"trigger-to-success of {DAG_ID} over {len(durations)} runs: "
            f"p50 {statistics.median(durations):.1f} s, max {max(durations):.1f} s "
            f"(all: {', '.join(f'{value:.1f}' for value in durations)})",
            flush=True,
        )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        ecsflow(env, "local", "down")
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
