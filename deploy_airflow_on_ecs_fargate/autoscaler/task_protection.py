"""Worker side of safe scale-in: hold ECS task scale-in protection while the worker runs tasks.

ECS never stops a protected task when a service's desired count goes down (scale-in picks
unprotected tasks), so lowering the count can only stop idle workers:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection-endpoint.html

The worker counts the tasks it runs with Celery's ``task_prerun``/``task_postrun`` signals
(Airflow 3's Celery worker runs each task instance as an ``execute_workload`` Celery task). With
the prefork pool those signals fire in the pool processes, so the count is a shared-memory counter
created in the worker's main process (``worker_init``) before the pool forks: the first task to
start enables protection, the last to finish releases it. Protection expires after
``autoscaler.task_protection_minutes`` (so a crashed worker does not stay protected forever) and is
renewed when a task starts after half of that time has passed.

Outside ECS (``ECS_AGENT_URI`` unset, e.g. the local environment) this does nothing. Failing to
reach the agent is logged and never fails a task. Import this module in the worker process
(``celery_config`` does) to connect the signals.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
import urllib.error
import urllib.request
from typing import Any

from celery.signals import task_postrun, task_prerun, worker_init

from deploy_airflow_on_ecs_fargate.airflow_settings import AUTOSCALER_SETTINGS_VAR
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig

log = logging.getLogger(__name__)

AGENT_URI_VAR = "ECS_AGENT_URI"
STATE_PATH = "/task-protection/v1/state"


def protection_minutes() -> int:
    """From the autoscaler settings the stack passes (ECSFLOW_AUTOSCALER), else the config default."""
    raw = os.environ.get(AUTOSCALER_SETTINGS_VAR)
    settings = AutoscalerConfig.model_validate_json(raw) if raw else AutoscalerConfig()  # type: ignore[call-arg]
    return settings.task_protection_minutes


def set_protection(enabled: bool, minutes: int, agent_uri: str | None = None, timeout: float = 3.0) -> bool:
    """PUT the protection state to the ECS agent; True on success, False (logged) otherwise or off ECS."""
    agent = agent_uri if agent_uri is not None else os.environ.get(AGENT_URI_VAR)
    if not agent:
        return False
    body: dict[str, Any] = {"ProtectionEnabled": enabled}
    if enabled:
        body["ExpiresInMinutes"] = minutes
    request = urllib.request.Request(  # noqa: S310 (the agent URI is set by ECS, http by design)
        agent.rstrip("/") + STATE_PATH,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("task scale-in protection %s failed: %s", "on" if enabled else "off", error)
        return False
    if "failure" in answer or "error" in answer:
        log.warning("task scale-in protection %s refused: %s", "on" if enabled else "off", answer)
        return False
    log.info("task scale-in protection %s", f"on for {minutes} min" if enabled else "off")
    return True


class ProtectionTracker:
    """Counts running tasks across the worker's processes and drives protection on 0 <-> 1 edges."""

    def __init__(self, minutes: int, agent_uri: str | None = None) -> None:
        self.minutes = minutes
        self.agent_uri = agent_uri
        # Shared memory created before the prefork pool forks, so every pool process sees one counter.
        self.running = multiprocessing.Value("i", 0)
        self.protected_at = multiprocessing.Value("d", 0.0)  # time.time() of the last enable, 0: off

    def task_started(self) -> None:
        with self.running.get_lock():
            self.running.value += 1
            stale = time.time() - self.protected_at.value > self.minutes * 60 / 2
            if (self.running.value == 1 or stale) and set_protection(True, self.minutes, self.agent_uri):
                self.protected_at.value = time.time()

    def task_finished(self) -> None:
        with self.running.get_lock():
            self.running.value = max(0, self.running.value - 1)
            if self.running.value == 0 and set_protection(False, self.minutes, self.agent_uri):
                self.protected_at.value = 0.0


_tracker: ProtectionTracker | None = None


def tracker() -> ProtectionTracker:
    global _tracker
    if _tracker is None:
        # worker_init did not run in this process tree (e.g. a solo pool started oddly): a local
        # counter is still right for a single process.
        _tracker = ProtectionTracker(protection_minutes())
    return _tracker


def _on_worker_init(**_: Any) -> None:
    global _tracker
    if os.environ.get(AGENT_URI_VAR):
        _tracker = ProtectionTracker(protection_minutes())


def _on_task_prerun(**_: Any) -> None:
    if os.environ.get(AGENT_URI_VAR):
        tracker().task_started()


def _on_task_postrun(**_: Any) -> None:
    if os.environ.get(AGENT_URI_VAR):
        tracker().task_finished()


worker_init.connect(_on_worker_init, weak=False)
task_prerun.connect(_on_task_prerun, weak=False)
task_postrun.connect(_on_task_postrun, weak=False)
