"""What the controller needs from a backend (ECS services or local worker processes)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Protocol

from deploy_airflow_on_ecs_fargate.airflow_settings import AUTOSCALER_POOLS_VAR


@dataclass(frozen=True)
class PoolTarget:
    """One worker pool as given in ECSFLOW_AUTOSCALER_POOLS (see airflow_settings.autoscaler_environment)."""

    name: str
    service: str
    cluster: str
    concurrency: int
    min_workers: int
    max_workers: int


@dataclass(frozen=True)
class WorkerCount:
    current: int  # what the pool is set to now
    busy: int  # workers running tasks
    target_min: int | None = None  # scalable target bounds (ECS)
    target_max: int | None = None
    scale_in_blocked: str | None = None  # why scale-in must wait (e.g. a deployment in progress)


class Backend(Protocol):
    name: str

    def observe(self, pool: str, busy_hosts: int) -> WorkerCount: ...

    def apply(self, pool: str, desired: int) -> str: ...

    def close(self) -> None: ...


class PoolsError(ValueError):
    """ECSFLOW_AUTOSCALER_POOLS is missing or malformed."""


def parse_pools(raw: str) -> dict[str, PoolTarget]:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or not data:
            raise PoolsError(f"{AUTOSCALER_POOLS_VAR} must be a non-empty JSON object of pools")
        pools = {
            name: PoolTarget(
                name=name,
                service=str(spec.get("service", "")),
                cluster=str(spec.get("cluster", "")),
                concurrency=int(spec["concurrency"]),
                min_workers=int(spec["min"]),
                max_workers=int(spec["max"]),
            )
            for name, spec in data.items()
        }
    except json.JSONDecodeError as error:
        raise PoolsError(f"{AUTOSCALER_POOLS_VAR} is not valid JSON: {error}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        if isinstance(error, PoolsError):
            raise
        raise PoolsError(f"{AUTOSCALER_POOLS_VAR}: each pool needs concurrency, min and max ({error!r})") from None
    for pool in pools.values():
        if pool.concurrency < 1 or not 0 <= pool.min_workers <= pool.max_workers:
            raise PoolsError(f"pool {pool.name}: need concurrency >= 1 and 0 <= min <= max")
    return pools


def pools_from_environment() -> dict[str, PoolTarget] | None:
    raw = os.environ.get(AUTOSCALER_POOLS_VAR)
    return None if raw is None else parse_pools(raw)
