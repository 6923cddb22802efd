"""The control loop: every ``poll_seconds`` count, decide, apply, publish, log, write the state.

One poll = one DB query for every pool (active_tasks), then per pool: observe the backend,
:func:`decision.decide`, apply a scale-out or scale-in, and log the decision as one JSON line on
stdout (CloudWatch Logs on ECS; ``ecsflow status`` reads it back). Errors never stop the loop:
without DB data no pool changes (no scale-in on unknown data), an AWS error leaves that pool as
it is, and the next poll is delayed with exponential backoff (up to :data:`MAX_BACKOFF_SECONDS`).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import sqlalchemy as sa

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import QueueLoad, count_active_tasks, running_task_pids
from deploy_airflow_on_ecs_fargate.autoscaler.backend import Backend, PoolTarget
from deploy_airflow_on_ecs_fargate.autoscaler.decision import Observation, PoolLimits, PoolMemory, decide
from deploy_airflow_on_ecs_fargate.autoscaler.metrics import MetricsPublisher, PoolSample
from deploy_airflow_on_ecs_fargate.autoscaler.state import PoolStatus, write_state
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


def _short(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


def _print_line(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Controller:
    pools: dict[str, PoolTarget]
    settings: AutoscalerConfig
    engine: sa.Engine
    backend: Backend
    metrics: MetricsPublisher | None = None
    state_file: Path | None = None
    clock: Callable[[], float] = time.monotonic
    emit: Callable[[str], None] = field(default=lambda line: _print_line(line))
    memory: dict[str, PoolMemory] = field(default_factory=dict)
    failures: int = 0  # consecutive polls with an error, for the backoff
    last: dict[str, PoolStatus] = field(default_factory=dict)

    @property
    def default_queue(self) -> str:
        return next(iter(self.pools))

    def _count(self) -> tuple[dict[str, QueueLoad] | None, str | None]:
        try:
            with self.engine.connect() as connection:
                loads = count_active_tasks(connection, self.default_queue)
                setter = getattr(self.backend, "set_running_pids", None)
                if setter is not None:
                    setter(running_task_pids(connection, self.default_queue))
            return loads, None
        except sa.exc.SQLAlchemyError as error:
            return None, f"metadata DB: {_short(error)}"

    def poll(self, apply: bool = True) -> list[PoolStatus]:
        """One round for every pool; returns what was decided (and done)."""
        now = self.clock()
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        loads, db_error = self._count()
        statuses: list[PoolStatus] = []
        samples: list[PoolSample] = []
        had_error = db_error is not None
        for name, pool in self.pools.items():
            load = (loads or {}).get(name, QueueLoad())
            observation: Observation | None = None
            error = db_error
            workers = None
            try:
                workers = self.backend.observe(name, load.busy_hosts)
            except Exception as failure:  # any backend/API error: this pool keeps its size
                error = f"{self.backend.name}: {_short(failure)}"
                had_error = True
            if loads is not None and workers is not None:
                observation = Observation(
                    queued=load.queued,
                    running=load.running,
                    current_workers=workers.current,
                    busy_workers=workers.busy,
                    target_min=workers.target_min,
                    target_max=workers.target_max,
                    scale_in_blocked=workers.scale_in_blocked,
                )
            limits = PoolLimits(pool.concurrency, pool.min_workers, pool.max_workers)
            decision = decide(
                limits, observation, self.memory.get(name, PoolMemory()), now, self.settings.scale_in_grace_seconds
            )
            self.memory[name] = decision.memory
            applied = None
            if apply and decision.action in ("scale_out", "scale_in") and decision.desired is not None:
                try:
                    applied = self.backend.apply(name, decision.desired)
                except Exception as failure:  # keep the last safe state; retried next poll
                    error = f"{self.backend.name}: {_short(failure)}"
                    had_error = True
            reason = decision.reason if error is None or observation is not None else f"{decision.reason} ({error})"
            status = PoolStatus(
                pool=name,
                time=stamp,
                queued=load.queued if loads is not None else None,
                running=load.running if loads is not None else None,
                current=workers.current if workers is not None else None,
                desired=decision.desired,
                busy=workers.busy if workers is not None else None,
                action=decision.action,
                reason=reason,
                applied=applied,
                error=error,
            )
            statuses.append(status)
            self.emit(status.log_line())
            if observation is not None and decision.desired is not None:
                samples.append(
                    PoolSample(
                        name,
                        load.queued,
                        load.running,
                        workers.current if workers else 0,
                        decision.desired,
                        observation.busy_workers,
                        pool.concurrency,
                    )
                )
        self.failures = self.failures + 1 if had_error else 0
        self.last = {s.pool: s for s in statuses}
        self._publish(samples, now)
        self._write_state()
        return statuses

    def _publish(self, samples: list[PoolSample], now: float) -> None:
        if self.metrics is None:
            return
        self.metrics.record(samples, now)
        if self.metrics.due(now):
            try:
                self.metrics.flush()
            except Exception as failure:  # metrics are for people; never let them stop scaling
                log.warning("PutMetricData failed: %s", _short(failure))

    def _write_state(self) -> None:
        if self.state_file is None:
            return
        worker_pids = getattr(self.backend, "worker_pids", None)
        try:
            write_state(
                self.state_file, self.backend.name, list(self.last.values()), worker_pids() if worker_pids else {}
            )
        except OSError as failure:
            log.warning("could not write %s: %s", self.state_file, failure)

    def next_delay(self) -> float:
        if self.failures == 0:
            return self.settings.poll_seconds
        return float(min(self.settings.poll_seconds * 2 ** min(self.failures, 10), MAX_BACKOFF_SECONDS))

    def run(self, stop: threading.Event | None = None) -> None:
        """Poll until ``stop`` is set (SIGTERM/SIGINT set it when run from the main thread)."""
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():

            def _stop(signum: int, _frame: FrameType | None) -> None:
                log.info("signal %s: stopping", signal.Signals(signum).name)
                stop.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
        log.info(
            "autoscaler (%s backend) polling every %ss for pools %s",
            self.backend.name,
            self.settings.poll_seconds,
            ", ".join(self.pools),
        )
        try:
            while not stop.is_set():
                try:
                    self.poll()
                except Exception:  # a bug in one poll must not end autoscaling
                    log.exception("poll failed")
                    self.failures += 1
                stop.wait(self.next_delay())
        finally:
            self.backend.close()
            if self.metrics is not None:
                try:
                    self.metrics.flush()
                except Exception as failure:
                    log.warning("final PutMetricData failed: %s", _short(failure))
            self._write_state()
            log.info("autoscaler stopped")
