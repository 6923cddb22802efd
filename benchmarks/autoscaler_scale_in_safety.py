"""Scale-in safety: a burst of task instances of mixed length, 0 running tasks killed.

A faithful simulation with real parts: a real PostgreSQL with Airflow's schema, the real controller
loop (``Controller.run``) and the real local backend (starts/stops worker processes, SIGTERM =
warm shutdown, SIGKILL after the stop timeout as ECS does after ``stopTimeout``). The workers are
``autoscaler_sim_worker.py`` processes with the same process shape and signal behaviour as a
Celery prefork worker that take queued task instances from the DB (no broker, no api-server), so
thousands of task-seconds run in about a minute on a laptop.

Each scenario submits waves of tasks (short 0.5-2 s, medium 3-8 s, long 15-30 s) and counts
task instances killed (left "running" after their worker died) and how long idle workers
lingered after the last task. "safe" is the autoscaler as shipped; "naive" is the same controller
with busy-worker detection turned off (stop the newest workers, whatever they run), which is what
a plain desired-count scale-in without ECS task protection does: it shows the benchmark can see a kill.

Run: ``.venv/bin/python benchmarks/autoscaler_scale_in_safety.py [--tasks 240] [--scenarios safe naive]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from autoscaler_metadata_db import start

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import create_engine
from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget
from deploy_airflow_on_ecs_fargate.autoscaler.controller import Controller
from deploy_airflow_on_ecs_fargate.autoscaler.local_backend import LocalBackend
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig

SIM_WORKER = Path(__file__).with_name("autoscaler_sim_worker.py")
CONCURRENCY, MAX_WORKERS = 4, 6
POLL, GRACE, STOP_TIMEOUT = 1.0, 3, 5.0


def durations(count: int, rng: random.Random) -> list[float]:
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:
            out.append(round(rng.uniform(0.5, 2), 1))
        elif kind < 0.9:
            out.append(round(rng.uniform(3, 8), 1))
        else:
            out.append(round(rng.uniform(15, 30), 1))
    return out


def submit(engine: sa.Engine, run_id: str, seconds: list[float]) -> None:
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, state) "
                "VALUES ('bench', :r, 'manual', now(), 'running')"
            ),
            {"r": run_id},
        )
        for i, duration in enumerate(seconds):
            c.execute(
                sa.text(
                    "INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, max_tries, pool, "
                    "pool_slots, state, queue) VALUES (:id, :t, 'bench', :r, -1, 1, 0, 'default_pool', 1, 'queued', "
                    "'default')"
                ),
                {"id": str(uuid.uuid4()), "t": f"task{i:04d}-{duration}", "r": run_id},
            )


def scenario(name: str, url: str, tasks: int, seed: int) -> dict[str, object]:
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM task_instance"))
        c.execute(sa.text("DELETE FROM dag_run"))
    rng = random.Random(seed)
    pools = {"default": PoolTarget("default", "", "", CONCURRENCY, 0, MAX_WORKERS)}
    logs = Path(tempfile.mkdtemp(prefix=f"ecsflow-bench-{name}-"))
    backend = LocalBackend(
        logs,
        pools,
        STOP_TIMEOUT,
        command=lambda pool, index, concurrency: [
            sys.executable,
            str(SIM_WORKER),
            url,
            pool,
            str(concurrency),
        ],
        check_busy=name != "naive",
    )
    settings = AutoscalerConfig(poll_seconds=POLL, scale_in_grace_seconds=GRACE)  # type: ignore[call-arg]
    decisions: list[str] = []
    controller = Controller(pools, settings, create_engine(url), backend, emit=decisions.append)
    stop = threading.Event()
    thread = threading.Thread(target=controller.run, args=(stop,), daemon=True)
    started = time.monotonic()
    thread.start()
    # Waves: a big burst, a pause long enough for scale-in to start while long tasks still run, more.
    waves = [int(tasks * 0.5), int(tasks * 0.3), tasks - int(tasks * 0.5) - int(tasks * 0.3)]
    samples: list[tuple[float, int]] = []  # (wall clock, live worker processes), every 0.2 s

    def sample() -> None:
        samples.append((time.time(), len([w for w in backend.workers if w.alive()])))

    for number, size in enumerate(waves):
        submit(engine, f"wave{number}", durations(size, rng))
        wave_end = time.monotonic() + 25
        while time.monotonic() < wave_end:
            sample()
            time.sleep(0.2)
    # Drain: until nothing is queued or running and no worker is left; killed tasks stay "running"
    # in the DB (until Airflow's heartbeat timeout fails them) and keep a worker up, so give up then.
    settled = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with engine.connect() as c:
            queued = c.execute(sa.text("SELECT count(*) FROM task_instance WHERE state = 'queued'")).scalar()
            pids = [row[0] for row in c.execute(sa.text("SELECT pid FROM task_instance WHERE state = 'running'"))]
        sample()
        if queued == 0 and not [pid for pid in pids if pid is not None and _alive(pid)]:
            settled = settled or time.monotonic()
            if samples[-1][1] == 0 or time.monotonic() - settled > GRACE + 30:
                break
        time.sleep(0.2)
    with engine.connect() as c:
        last_end = c.execute(sa.text("SELECT extract(epoch FROM max(end_date)) FROM task_instance")).scalar()
    zero_at = next((t for t, live in samples if last_end is not None and t >= float(last_end) and live == 0), None)
    idle_linger = zero_at - float(last_end) if zero_at is not None and last_end is not None else float("nan")
    peak = max(live for _, live in samples)
    stop.set()
    thread.join(timeout=60)
    with engine.connect() as c:
        states = dict(c.execute(sa.text("SELECT state, count(*) FROM task_instance GROUP BY state")).all())
    engine.dispose()
    shutil.rmtree(logs, ignore_errors=True)
    return {
        "scenario": name,
        "tasks": tasks,
        "succeeded": states.get("success", 0),
        "killed": states.get("running", 0),
        "peak_workers": peak,
        "scale_ins": sum('"action": "scale_in"' in line for line in decisions),
        "idle_to_zero_s": idle_linger,
        "wall_s": time.monotonic() - started,
    }


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=240)
    parser.add_argument("--scenarios", nargs="+", default=["safe", "naive"], choices=["safe", "naive"])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    _server, url = start()
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO dag_bundle (name) VALUES ('bench') ON CONFLICT DO NOTHING"))
        c.execute(
            sa.text(
                "INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, timetable_type, partition_mapper_info, "
                "max_active_tasks, max_consecutive_failed_dag_runs, has_task_concurrency_limits) "
                "VALUES ('bench', false, false, 'bench', '', '{}', 16, 0, false) ON CONFLICT DO NOTHING"
            )
        )
    engine.dispose()
    print(
        f"pool: concurrency {CONCURRENCY}, max {MAX_WORKERS} workers; poll {POLL}s, grace {GRACE}s, "
        f"stop timeout {STOP_TIMEOUT}s"
    )
    print(
        f"{'scenario':9} {'tasks':>5} {'ok':>5} {'killed':>6} {'peak':>4} {'scale-ins':>9} "
        f"{'idle->0 s':>9} {'wall s':>7}"
    )
    for name in args.scenarios:
        r = scenario(name, url, args.tasks, args.seed)
        print(
            f"{r['scenario']:9} {r['tasks']:5d} {r['succeeded']:5d} {r['killed']:6d} {r['peak_workers']:4d} "
            f"{r['scale_ins']:9d} {r['idle_to_zero_s']:9.1f} {r['wall_s']:7.0f}"
        )


if __name__ == "__main__":
    main()
