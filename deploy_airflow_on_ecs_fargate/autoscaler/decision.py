"""The scaling decision of one worker pool: a pure function of what was observed and when.

desired = ceil((queued + running) / concurrency), clamped to the pool's [min, max] and then to
the bounds of the ECS scalable target (so a scheduled action such as "max 0 at night" wins).
More workers are asked for at once; fewer only after the pool has been over-provisioned for
``scale_in_grace_seconds`` without interruption, and never fewer than the workers that are
running tasks right now. With no data (DB or AWS outage) the pool keeps its current size.

Nothing here does I/O, reads a clock or keeps hidden state: the caller passes ``now`` and the
previous :class:`PoolMemory`, so the same inputs always give the same decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["scale_out", "scale_in", "hold", "wait", "unknown"]


@dataclass(frozen=True)
class PoolLimits:
    """A pool's settings as the controller received them (ECSFLOW_AUTOSCALER_POOLS)."""

    concurrency: int
    min_workers: int
    max_workers: int

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {self.concurrency}")
        if not 0 <= self.min_workers <= self.max_workers:
            raise ValueError(f"need 0 <= min ({self.min_workers}) <= max ({self.max_workers})")


@dataclass(frozen=True)
class Observation:
    """What one poll saw for a pool."""

    queued: int
    running: int
    current_workers: int  # what the pool is set to now (ECS desiredCount, or local worker processes)
    busy_workers: int  # workers running at least one task: they must not be stopped
    # Bounds of the ECS scalable target (scheduled actions change them); None locally.
    target_min: int | None = None
    target_max: int | None = None
    scale_in_blocked: str | None = None  # e.g. "deployment in progress": scale-in waits, scale-out does not

    @property
    def active(self) -> int:
        return self.queued + self.running


@dataclass(frozen=True)
class PoolMemory:
    """What the decision carries from one poll to the next."""

    # Since when (controller clock, seconds) the pool has had more workers than needed; None if not.
    over_provisioned_since: float | None = None


@dataclass(frozen=True)
class Decision:
    desired: int | None  # None: unknown, leave the pool as it is
    action: Action
    reason: str
    memory: PoolMemory = field(default_factory=PoolMemory)


def needed_workers(active: int, concurrency: int) -> int:
    """ceil(active / concurrency): the Helm chart's KEDA formula."""
    return math.ceil(active / concurrency) if active > 0 else 0


def bounds(limits: PoolLimits, observation: Observation) -> tuple[int, int]:
    """The [low, high] range the pool may be set to: config, then the scalable target (which wins)."""
    low, high = limits.min_workers, limits.max_workers
    if observation.target_max is not None:
        high = min(high, observation.target_max)
        low = min(low, high)
    if observation.target_min is not None:
        low = max(low, observation.target_min)
        high = max(high, low)
    return low, high


def decide(
    limits: PoolLimits,
    observation: Observation | None,
    memory: PoolMemory,
    now: float,
    scale_in_grace_seconds: float,
) -> Decision:
    """The desired worker count of one pool, the action it implies, and why."""
    if observation is None:
        # Unknown load: never scale in on missing data; the grace period restarts once data is back.
        return Decision(desired=None, action="unknown", reason="no data this poll; keeping the current size")

    needed = needed_workers(observation.active, limits.concurrency)
    low, high = bounds(limits, observation)
    target = min(max(needed, low), high)
    load = f"{observation.queued} queued + {observation.running} running / {limits.concurrency} per worker"
    why_target = f"{load} -> {needed}" + (f", clamped to [{low}, {high}] -> {target}" if target != needed else "")
    current = observation.current_workers

    if target > current:
        return Decision(target, "scale_out", f"{why_target}; {current} -> {target} now")
    if target == current:
        return Decision(target, "hold", f"{why_target}; already {current}")

    # Fewer workers would do. Never below the workers that are running tasks.
    # The grace clock keeps running while busy workers block the scale-in: the pool is still
    # over-provisioned, and once they finish the surplus goes at once.
    floor = min(observation.busy_workers, current)
    smallest = max(target, floor)
    since = memory.over_provisioned_since if memory.over_provisioned_since is not None else now
    if smallest >= current:
        return Decision(
            current,
            "hold",
            f"{why_target}; {floor} of {current} workers busy, none can stop",
            PoolMemory(over_provisioned_since=since),
        )
    waited = now - since
    if observation.scale_in_blocked:
        return Decision(
            current,
            "hold",
            f"{why_target}; scale-in waits: {observation.scale_in_blocked}",
            PoolMemory(over_provisioned_since=since),
        )
    if waited < scale_in_grace_seconds:
        return Decision(
            current,
            "wait",
            f"{why_target}; over-provisioned for {waited:.0f}s of {scale_in_grace_seconds:.0f}s grace",
            PoolMemory(over_provisioned_since=since),
        )
    busy_note = f" ({floor} busy)" if smallest > target else ""
    return Decision(
        smallest,
        "scale_in",
        f"{why_target}; over-provisioned for {waited:.0f}s; {current} -> {smallest}{busy_note}",
        # Busy workers kept some surplus: keep the clock so it goes as soon as they are idle.
        PoolMemory(over_provisioned_since=since) if smallest > target else PoolMemory(),
    )
