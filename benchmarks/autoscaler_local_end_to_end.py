"""End to end in the local environment: 0 workers -> DAG triggered -> worker up -> first task running.

Starts an isolated ``ecsflow local up`` (own data dir, free ports) with worker autoscaling on,
then for each trial: wait until the pool is back at 0 worker processes, trigger
``benchmark_two_tasks``, and time (wall clock, same machine):
- trigger -> the autoscaler has started a worker process (its state file lists the PID);
- trigger -> the first task instance is running (its ``start_date``);
- trigger -> the DAG run succeeded;
- run end -> workers back to 0 (grace period ``--grace`` + poll + warm shutdown).
The reference is the worker start-up alone: ``airflow celery worker`` from exec to the first task
it runs is most of the scale-from-zero time; the autoscaler's share is the poll interval.

Run: ``.venv/bin/python benchmarks/autoscaler_local_end_to_end.py [--trials 3] [--grace 5]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.autoscaler.local_env import AutoscaledEnvironment

DAG_ID = "benchmark_two_tasks"


def parse(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def trial(env: AutoscaledEnvironment) -> dict[str, float]:
    env.wait(lambda: not env.worker_pids(), 300, "0 workers")
    with env.api() as api:
        triggered = time.time()
        response = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        response.raise_for_status()
        run_id = urllib.parse.quote(response.json()["dag_run_id"], safe="")
        worker_up = env.wait(lambda: env.worker_pids(), 120, "a worker")
        pids = env.worker_pids()

        def run() -> dict[str, object]:
            return dict(api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}").json())

        env.wait(lambda: run()["state"] in ("success", "failed"), 300, "the run")
        finished = run()
        assert finished["state"] == "success", finished
        first = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/first").json()
    zero = env.wait(lambda: not env.worker_pids() and not any(psutil.pid_exists(p) for p in pids), 300, "0 workers")
    return {
        "worker_started": worker_up - triggered,
        "first_task_running": parse(first["start_date"]) - triggered,
        "run_succeeded": parse(str(finished["end_date"])) - triggered,
        "back_to_zero": zero - parse(str(finished["end_date"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--grace", type=int, default=5, help="scale_in_grace_seconds for the run")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ecsflow-bench-local-"))
    env = AutoscaledEnvironment.create(scratch / "data", args.grace)
    started = time.monotonic()
    env.up()
    print(f"local environment up in {time.monotonic() - started:.0f} s (autoscaling on, grace {args.grace} s)")
    try:
        results = [trial(env) for _ in range(args.trials)]
    finally:
        env.down()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"{'seconds after trigger':24} " + " ".join(f"{'#' + str(i + 1):>6}" for i in range(len(results))) + "  median"
    )
    for key in ("worker_started", "first_task_running", "run_succeeded", "back_to_zero"):
        values = [r[key] for r in results]
        label = key if key != "back_to_zero" else "back_to_zero (after run)"
        print(f"{label:24} " + " ".join(f"{v:6.1f}" for v in values) + f"  {statistics.median(values):6.1f}")


if __name__ == "__main__":
    main()
