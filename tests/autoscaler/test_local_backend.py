"""The local backend with real processes: start, stop only idle workers (warm), stop all on shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget
from deploy_airflow_on_ecs_fargate.autoscaler.local_backend import (
    LocalBackend,
    airflow_worker_command,
    stop_leftover_workers,
)

FAKE_WORKER = Path(__file__).with_name("fake_worker.py")
POOLS = {"default": PoolTarget("default", "", "", concurrency=4, min_workers=0, max_workers=3)}


def wait_for(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {condition}")


@pytest.fixture()
def control(tmp_path: Path) -> Path:
    path = tmp_path / "control"
    path.mkdir()
    return path


@pytest.fixture()
def backend(tmp_path: Path, control: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalBackend]:
    monkeypatch.setenv("ECSFLOW_TEST_MARK", "inherited")
    local = LocalBackend(
        tmp_path / "logs",
        POOLS,
        stop_timeout_seconds=3,
        command=lambda pool, index, concurrency: [
            sys.executable,
            str(FAKE_WORKER),
            str(control),
            pool,
            str(index),
        ],
    )
    yield local
    local.close(timeout=5)


def start_task(control: Path, name: str, seconds: float) -> int:
    for leftover in (control / f"task-{name}.pid", control / f"task-{name}.done"):
        leftover.unlink(missing_ok=True)
    (control / f"task-{name}").write_text(str(seconds))
    wait_for(lambda: (control / f"task-{name}.pid").exists())
    return int((control / f"task-{name}.pid").read_text())


def test_airflow_command_serves_the_pool_queue_with_its_concurrency() -> None:
    command = airflow_worker_command("heavy", 2, 16)
    assert command[:5] == [sys.executable, "-m", "airflow", "celery", "worker"]
    assert command[command.index("--queues") + 1] == "heavy"
    assert command[command.index("--concurrency") + 1] == "16"
    assert "--skip-serve-logs" in command
    assert "--celery-hostname" not in command  # it would make Airflow broadcast over SQS


def test_scale_out_starts_workers_with_the_inherited_environment_and_logs(
    backend: LocalBackend, tmp_path: Path
) -> None:
    assert backend.observe("default", 0).current == 0
    assert backend.apply("default", 2).startswith("started 2 worker(s)")
    assert backend.observe("default", 0).current == 2
    logs = [tmp_path / "logs" / f"worker-default-{i}.log" for i in (0, 1)]
    wait_for(
        lambda: (
            all("mark=inherited" in log.read_text() for log in logs if log.exists())
            and all(log.exists() for log in logs)
        )
    )


def test_scale_in_stops_only_idle_workers_and_lets_them_finish(backend: LocalBackend, control: Path) -> None:
    backend.apply("default", 3)
    wait_for(lambda: all(len(psutil.Process(w.pid).children()) == 1 for w in backend.workers))
    task_pid = start_task(control, "default-2", seconds=2)  # the newest worker is busy
    # Busy by the running task instance's PID (what the DB says) ...
    backend.set_running_pids({"default": {task_pid}})
    assert backend.observe("default", 0).busy == 1
    # ... and by the process shape alone (a task process below a pool process).
    backend.set_running_pids({})
    assert backend.observe("default", 0).busy == 1

    outcome = backend.apply("default", 0)
    assert outcome.startswith("stopping 2 idle worker(s) (only 2 idle)")
    assert backend.observe("default", 0).current == 1
    busy = next(w for w in backend.workers if w.index == 2)
    assert busy.stopping_since is None and busy.alive()
    wait_for(lambda: len([w for w in backend.workers if w.alive()]) == 1)

    # Once idle it may go; the warm shutdown lets a task that started meanwhile finish.
    wait_for(lambda: (control / "task-default-2.done").exists())
    assert backend.observe("default", 0).busy == 0
    start_task(control, "default-2", seconds=1)
    backend._terminate(busy)
    wait_for(lambda: not busy.alive())
    assert busy.process.returncode == 0
    assert (control / "task-default-2.done").read_text() == "0"  # the task ran to its end


def test_a_worker_that_does_not_stop_in_time_is_killed(tmp_path: Path, control: Path) -> None:
    local = LocalBackend(
        tmp_path / "logs",
        POOLS,
        stop_timeout_seconds=0.5,
        command=lambda pool, index, concurrency: [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
        ],
    )
    local.apply("default", 1)
    worker = local.workers[0]
    time.sleep(0.3)
    local._terminate(worker)
    time.sleep(0.7)
    local.observe("default", 0)  # reaping: past the stop timeout -> SIGKILL
    wait_for(lambda: not worker.alive())
    assert worker.process.returncode == -signal.SIGKILL
    local.close()


def test_controller_sigterm_stops_its_workers_and_exits(tmp_path: Path, control: Path) -> None:
    # The local environment stops the autoscaler with SIGTERM; its workers must not outlive it.
    script = textwrap.dedent(
        f"""
        import sys, threading
        from pathlib import Path
        from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget
        from deploy_airflow_on_ecs_fargate.autoscaler.local_backend import LocalBackend
        from deploy_airflow_on_ecs_fargate.autoscaler.controller import Controller
        from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig
        import sqlalchemy as sa
        pools = {{"default": PoolTarget("default", "", "", 4, 2, 3)}}
        backend = LocalBackend(Path({str(tmp_path / "logs")!r}), pools, 5,
            command=lambda p, i, c: [sys.executable, {str(FAKE_WORKER)!r}, {str(control)!r}, p, str(i)])
        engine = sa.create_engine("sqlite://")  # no task_instance table: every poll is "unknown", 2 stay
        controller = Controller(pools, AutoscalerConfig(poll_seconds=1), engine, backend,
            state_file=Path({str(tmp_path / "state.json")!r}))
        backend.apply("default", 2)
        print("workers", " ".join(str(w.pid) for w in backend.workers), flush=True)
        controller.run()
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    pids = [int(pid) for pid in line.split()[1:]]
    assert len(pids) == 2 and all(psutil.pid_exists(pid) for pid in pids)
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert os.path.exists(tmp_path / "state.json")


def test_leftover_workers_of_a_killed_controller_are_stopped_but_not_strangers(tmp_path: Path, control: Path) -> None:
    log_dir = tmp_path / "logs"
    ours = subprocess.Popen(
        [sys.executable, str(FAKE_WORKER), str(control), "default", "0"],
        env={**os.environ, "ECSFLOW_LOCAL_LOG_DIR": str(log_dir)},
    )
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_for(lambda: len(psutil.Process(ours.pid).children()) == 1)
        assert stop_leftover_workers([ours.pid, stranger.pid, 999_999_999], log_dir) == [ours.pid]
        assert ours.wait(timeout=15) == 0  # warm shutdown
        assert stranger.poll() is None
    finally:
        stranger.kill()
        ours.kill()
