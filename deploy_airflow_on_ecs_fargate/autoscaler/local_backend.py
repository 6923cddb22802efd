"""Local backend: the pool's "service" is a set of ``airflow celery worker`` processes on this machine.

Scale-out starts workers with the controller's own environment (the local environment gives it
the full Airflow env). Scale-in sends SIGTERM, which is Celery's warm shutdown: the worker stops
consuming and finishes the tasks it is running
(https://docs.celeryq.dev/en/stable/userguide/workers.html#stopping-the-worker); only idle
workers are chosen. A worker is busy when a running task instance's process (``task_instance.pid``,
set by the Airflow 3 supervisor when it forks the task) is one of its descendants, or when it has
a process below its pool processes (a task being started, not yet marked running).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from deploy_airflow_on_ecs_fargate.autoscaler.backend import PoolTarget, WorkerCount

log = logging.getLogger(__name__)

LOG_DIR_VAR = "ECSFLOW_LOCAL_LOG_DIR"
WorkerCommand = Callable[[str, int, int], Sequence[str]]


def airflow_worker_command(pool: str, index: int, concurrency: int) -> list[str]:
    """``airflow celery worker`` for one pool, run by the controller's own interpreter (no PATH lookup)."""
    return [
        sys.executable,
        "-m",
        "airflow",
        "celery",
        "worker",
        "--queues",
        pool,
        "--concurrency",
        str(concurrency),
        # Task logs are read back from remote logging; a log server per worker would also fight
        # over [logging] worker_log_server_port. No --celery-hostname: with it Airflow first
        # inspects the running workers, a broadcast that SQS cannot carry.
        "--skip-serve-logs",
    ]


@dataclass
class LocalWorker:
    pool: str
    index: int
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    started: float
    stopping_since: float | None = None
    killed: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class LocalBackend:
    """Starts and stops worker processes; one instance drives every pool."""

    log_dir: Path
    pools: dict[str, PoolTarget]
    stop_timeout_seconds: float
    command: WorkerCommand = airflow_worker_command
    # Depth below the worker's main process at which a process means "a task is starting/running":
    # Airflow's Celery worker forks pool processes (depth 1) that fork the task (depth 2).
    task_process_depth: int = 2
    check_busy: bool = True  # False only in the benchmark's "naive" baseline
    workers: list[LocalWorker] = field(default_factory=list)
    _running_pids: dict[str, set[int]] = field(default_factory=dict)

    name = "local"

    # -- observation ---------------------------------------------------------------------------
    def set_running_pids(self, pids_by_queue: dict[str, set[int]]) -> None:
        """PIDs of running task instances per queue, from the same poll's DB query."""
        self._running_pids = pids_by_queue

    def observe(self, pool: str, busy_hosts: int) -> WorkerCount:
        self._reap()
        serving = self._serving(pool)
        busy = sum(1 for worker in serving if self._busy(worker))
        return WorkerCount(current=len(serving), busy=busy)

    def _serving(self, pool: str) -> list[LocalWorker]:
        return [w for w in self.workers if w.pool == pool and w.alive() and w.stopping_since is None]

    def _descendants(self, worker: LocalWorker) -> list[tuple[int, psutil.Process]]:
        found: list[tuple[int, psutil.Process]] = []
        try:
            level = [psutil.Process(worker.pid)]
            depth = 0
            while level:
                depth += 1
                level = [child for process in level for child in process.children()]
                found.extend((depth, child) for child in level)
        except psutil.Error:
            pass
        return found

    def _busy(self, worker: LocalWorker) -> bool:
        if not self.check_busy:
            return False
        running = self._running_pids.get(worker.pool, set())
        for depth, process in self._descendants(worker):
            if process.pid in running or depth >= self.task_process_depth:
                return True
        return False

    # -- actions -------------------------------------------------------------------------------
    def apply(self, pool: str, desired: int) -> str:
        self._reap()
        serving = self._serving(pool)
        if desired > len(serving):
            started = [self._start(pool) for _ in range(desired - len(serving))]
            return f"started {len(started)} worker(s): pid {', '.join(str(w.pid) for w in started)}"
        if desired < len(serving):
            # Newest first: the oldest workers have warmed caches; only idle ones are stopped.
            idle = [w for w in sorted(serving, key=lambda w: -w.started) if not self._busy(w)]
            chosen = idle[: len(serving) - desired]
            for worker in chosen:
                self._terminate(worker)
            note = "" if len(chosen) == len(serving) - desired else f" (only {len(chosen)} idle)"
            return f"stopping {len(chosen)} idle worker(s){note}: pid {', '.join(str(w.pid) for w in chosen)}"
        return "no change"

    def _start(self, pool: str) -> LocalWorker:
        used = {w.index for w in self.workers if w.pool == pool and w.alive()}
        index = next(i for i in range(len(used) + 1) if i not in used)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = (self.log_dir / f"worker-{pool}-{index}.log").open("ab")
        try:
            process = subprocess.Popen(
                list(self.command(pool, index, self.pools[pool].concurrency)),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=os.environ.copy(),
                # Own process group: a terminal's Ctrl-C goes to the controller, which stops the
                # workers itself (warm), and a SIGKILL fallback can reach the whole worker tree.
                start_new_session=True,
            )
        except OSError:
            log_file.close()
            raise
        worker = LocalWorker(pool, index, process, log_file, started=time.monotonic())
        self.workers.append(worker)
        log.info("started worker %s-%s pid %s", pool, index, process.pid)
        return worker

    def _terminate(self, worker: LocalWorker) -> None:
        worker.stopping_since = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            worker.process.send_signal(signal.SIGTERM)

    def _kill_group(self, worker: LocalWorker) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(worker.pid, signal.SIGKILL)

    def _reap(self) -> None:
        """Forget exited workers; SIGKILL those still stopping after the stop timeout (as ECS does)."""
        now = time.monotonic()
        for worker in list(self.workers):
            if not worker.alive():
                worker.log_file.close()
                self.workers.remove(worker)
                log.info(
                    "worker %s-%s pid %s exited with %s",
                    worker.pool,
                    worker.index,
                    worker.pid,
                    worker.process.returncode,
                )
            elif (
                worker.stopping_since is not None
                and not worker.killed
                and now - worker.stopping_since > self.stop_timeout_seconds
            ):
                log.warning(
                    "worker %s-%s pid %s did not stop in %ss: killing it",
                    worker.pool,
                    worker.index,
                    worker.pid,
                    self.stop_timeout_seconds,
                )
                self._kill_group(worker)
                worker.killed = True

    def worker_pids(self) -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {}
        for worker in self.workers:
            if worker.alive():
                pids.setdefault(worker.pool, []).append(worker.pid)
        return pids

    def close(self, timeout: float | None = None) -> None:
        """Warm-stop every worker, wait for them, then kill what is left (controller shutdown)."""
        limit = self.stop_timeout_seconds if timeout is None else timeout
        for worker in self.workers:
            if worker.alive() and worker.stopping_since is None:
                self._terminate(worker)
        deadline = time.monotonic() + limit
        for worker in self.workers:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill_group(worker)
                worker.process.wait()
        for worker in self.workers:
            worker.log_file.close()
        self.workers.clear()


def stop_leftover_workers(pids: Iterable[int], log_dir: Path) -> list[int]:
    """Warm-stop workers a previous controller started and could not stop (it was killed).

    Their PIDs come from the state file. A PID is only signalled if that process still carries
    this controller's ``ECSFLOW_LOCAL_LOG_DIR`` in its environment (workers inherit it), so a
    PID reused by an unrelated process is left alone. Returns the PIDs signalled.
    """
    stopped = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.environ().get(LOG_DIR_VAR) != str(log_dir):
                continue
            process.send_signal(signal.SIGTERM)
            stopped.append(pid)
        except psutil.Error:
            continue
    return stopped
