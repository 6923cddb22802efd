"""The autoscaler's last decision per pool, where ``ecsflow status`` can read it.

- Locally the controller rewrites a JSON state file (``ECSFLOW_AUTOSCALER_STATE_FILE``) after
  every poll; :func:`read_state` loads it.
- On ECS every decision is one JSON log line (event ``autoscaler_decision``) in the controller's
  log group; :func:`parse_decision_line` turns such a line (e.g. from CloudWatch Logs
  FilterLogEvents with the pattern :data:`LOG_FILTER_PATTERN`) back into a :class:`PoolStatus`.

Both carry the same fields, so the CLI shows the same table in both places.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

STATE_FILE_VAR = "ECSFLOW_AUTOSCALER_STATE_FILE"
DECISION_EVENT = "autoscaler_decision"
# CloudWatch Logs filter pattern that selects the decision lines of the controller's log stream.
LOG_FILTER_PATTERN = '{ $.event = "autoscaler_decision" }'


@dataclass(frozen=True)
class PoolStatus:
    pool: str
    time: str  # ISO 8601 UTC of the poll
    queued: int | None
    running: int | None
    current: int | None
    desired: int | None
    busy: int | None
    action: str  # scale_out | scale_in | hold | wait | unknown
    reason: str
    applied: str | None = None  # what the backend did, when it acted
    error: str | None = None  # why data was missing or the action failed

    def log_line(self) -> str:
        return json.dumps({"event": DECISION_EVENT, **asdict(self)}, sort_keys=True)


def parse_decision_line(line: str) -> PoolStatus | None:
    """A PoolStatus from one controller log line, or None if the line is not a decision."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("event") != DECISION_EVENT:
        return None
    names = {f.name for f in fields(PoolStatus)}
    try:
        return PoolStatus(**{k: v for k, v in data.items() if k in names})
    except TypeError:
        return None


def write_state(path: Path, backend: str, pools: list[PoolStatus], workers: dict[str, list[int]]) -> None:
    """Atomically replace the state file (a reader never sees half a file)."""
    payload = {
        "backend": backend,
        "controller_pid": os.getpid(),
        "pools": {status.pool: asdict(status) for status in pools},
        "worker_pids": workers,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=".autoscaler-", delete=False) as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
    Path(handle.name).replace(path)


def read_state(path: Path) -> tuple[dict[str, PoolStatus], dict[str, list[int]]]:
    """(last status per pool, worker PIDs per pool) from a state file; ({}, {}) if there is none yet."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}, {}
    names = {f.name for f in fields(PoolStatus)}
    pools = {
        name: PoolStatus(**{k: v for k, v in status.items() if k in names})
        for name, status in data.get("pools", {}).items()
    }
    workers = {pool: [int(pid) for pid in pids] for pool, pids in data.get("worker_pids", {}).items()}
    return pools, workers
