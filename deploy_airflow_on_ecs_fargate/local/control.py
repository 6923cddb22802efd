"""What ``ecsflow local up|status|down`` do; the CLI module only parses arguments and prints."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.local import health, processes
from deploy_airflow_on_ecs_fargate.local.components import (
    API_SERVER,
    AUTOSCALER,
    HEALTH_KEYS,
    MOTO,
    POSTGRES,
    airflow_components,
)
from deploy_airflow_on_ecs_fargate.local.environment import api_url, moto_endpoint
from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError
from deploy_airflow_on_ecs_fargate.local.layout import Layout
from deploy_airflow_on_ecs_fargate.local.postgres import check_reachable
from deploy_airflow_on_ecs_fargate.local.state import EnvironmentState
from deploy_airflow_on_ecs_fargate.local.supervisor import SUPERVISOR, embedded_postgres, stop_environment


def running_supervisor(layout: Layout) -> int | None:
    pid = processes.read_pid(layout.pid_file(SUPERVISOR))
    return pid if processes.alive(pid) else None


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR: a port in TIME_WAIT is free to listen on; only a listener makes bind fail.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def preflight(settings: Settings) -> None:
    """Reject what would make the start fail half-way: a busy port, an unreachable database."""
    local = settings.local
    ports = {"api_port": local.api_port, "moto_port": local.moto_port}
    if local.database_url is None:
        ports["postgres_port"] = local.postgres_port
    for field, port in ports.items():
        if port_in_use(local.host, port):
            raise LocalEnvironmentError(
                f"port {port} (local.{field}) is already in use on {local.host}; stop what uses it "
                f"or choose another port (ECSFLOW_LOCAL__{field.upper()}=...)"
            )
    if local.database_url is not None:
        check_reachable(local.database_url)


def start_in_background(settings: Settings, on_progress: Callable[[str], None]) -> EnvironmentState:
    """Start the supervisor as a background process; return once it reports ready.

    On failure everything it started is stopped before the error is raised.
    """
    layout = Layout.of(settings)
    layout.create()
    layout.state_file.unlink(missing_ok=True)
    log_file = layout.log_file(SUPERVISOR)
    with log_file.open("ab") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.local.supervisor"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the terminal that ran `up`
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + settings.local.start_timeout_seconds + 60
    last_message = ""
    try:
        while True:
            state = EnvironmentState.load(layout.state_file)
            if state is not None and state.supervisor_pid == daemon.pid:
                if state.message != last_message:
                    last_message = state.message
                    on_progress(state.message)
                if state.phase == "ready":
                    return state
                if state.phase == "failed":
                    daemon.wait(timeout=settings.local.stop_timeout_seconds * 3 + 30)
                    raise LocalEnvironmentError(state.message)
            if daemon.poll() is not None:
                raise LocalEnvironmentError(f"the supervisor exited with code {daemon.returncode} (log: {log_file})")
            if time.monotonic() > deadline:
                raise LocalEnvironmentError(
                    f"not ready after {settings.local.start_timeout_seconds} s (logs: {layout.logs_dir})"
                )
            time.sleep(0.2)
    except BaseException:
        stop(settings)
        raise


def stop(settings: Settings) -> list[str]:
    """Stop the supervisor (it stops its components), then sweep anything left, by PID."""
    layout = Layout.of(settings)
    stopped = []
    pid = running_supervisor(layout)
    if pid is not None:
        # The supervisor stops the components itself; it needs at most two stop timeouts.
        processes.stop_group(pid, settings.local.stop_timeout_seconds * 2 + 10)
        stopped.append(SUPERVISOR)
    layout.pid_file(SUPERVISOR).unlink(missing_ok=True)
    if layout.run_dir.exists():
        stopped += stop_environment(settings, layout)
    return stopped


@dataclass
class ComponentStatus:
    name: str
    pid: int | None
    alive: bool
    health: str  # healthy | unhealthy | running | stopped | crashed | unknown
    detail: str
    restarts: int
    log: str


def status(settings: Settings) -> dict[str, Any]:
    layout = Layout.of(settings)
    state = EnvironmentState.load(layout.state_file) or EnvironmentState()
    supervisor_pid = running_supervisor(layout)
    phase = state.phase if supervisor_pid else "stopped"
    answer = health.airflow_health(api_url(settings)) if supervisor_pid else None
    names = [MOTO, POSTGRES] + [component.name for component in airflow_components(settings, layout)]
    names += [name for name in state.components if name not in names]
    rows = []
    for name in names:
        record = state.components.get(name)
        if name == POSTGRES and settings.local.database_url is None:
            pid = embedded_postgres(settings, layout).running_pid()
        else:
            pid = processes.read_pid(layout.pid_file(name))
        is_alive = processes.alive(pid)
        row = ComponentStatus(
            name=name,
            pid=pid if is_alive else None,
            alive=is_alive,
            health="stopped",
            detail="",
            restarts=record.restarts if record else 0,
            log=str(layout.log_file(name)),
        )
        if name == POSTGRES and settings.local.database_url is not None:
            row.detail = "external database (local.database_url)"
            row.alive = answer is not None
        if row.alive:
            row.health, row.detail = _health_of(name, settings, answer, row.detail)
        elif record is not None and record.crashed:
            row.health = "crashed"
        rows.append(row)
    return {
        "phase": phase,
        "message": state.message if supervisor_pid else "not running",
        "url": api_url(settings),
        "username": settings.airflow.admin_username,
        "data_dir": str(layout.data_dir),
        "components": [asdict(row) for row in rows],
    }


def _health_of(name: str, settings: Settings, answer: dict[str, Any] | None, detail: str) -> tuple[str, str]:
    if name == API_SERVER:
        return ("healthy", "") if answer is not None else ("unhealthy", "no answer from /api/v2/monitor/health")
    if name in HEALTH_KEYS:
        if answer is None:
            return "unknown", "api-server not answering"
        entry = answer.get(HEALTH_KEYS[name]) or {}
        beat = next((value for key, value in entry.items() if key.endswith("heartbeat")), None)
        return str(entry.get("status") or "unknown"), f"last heartbeat {beat}" if beat else "no heartbeat yet"
    if name == POSTGRES:
        if answer is None:
            return "running", detail
        return str((answer.get("metadatabase") or {}).get("status", "unknown")), detail
    if name == MOTO:
        ok = health.url_answers(moto_endpoint(settings) + "/moto-api/data.json")
        return ("healthy", moto_endpoint(settings)) if ok else ("unhealthy", "no answer")
    if name == AUTOSCALER:
        return "running", _autoscaler_detail(Layout.of(settings))
    return "running", detail


def _autoscaler_detail(layout: Layout) -> str:
    """Workers per pool and the last decision, from the autoscaler's state file."""
    from deploy_airflow_on_ecs_fargate.autoscaler.state import read_state

    pools, workers = read_state(layout.autoscaler_state_file)
    parts = []
    for pool in sorted(set(pools) | set(workers)):
        status = pools.get(pool)
        last = f", last decision {status.action}" if status else ""
        parts.append(f"{pool}: {len(workers.get(pool, []))} worker(s){last}")
    return "; ".join(parts) or "no decision yet"
