"""The scaling rule: unit cases and properties (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deploy_airflow_on_ecs_fargate.autoscaler.decision import (
    Observation,
    PoolLimits,
    PoolMemory,
    bounds,
    decide,
    needed_workers,
)

LIMITS = PoolLimits(concurrency=8, min_workers=0, max_workers=4)
GRACE = 120.0


def observe(queued: int = 0, running: int = 0, current: int = 0, busy: int = 0, **kw: object) -> Observation:
    return Observation(queued=queued, running=running, current_workers=current, busy_workers=busy, **kw)  # type: ignore[arg-type]


def test_needed_workers_is_ceil_of_active_over_concurrency() -> None:
    assert [needed_workers(n, 8) for n in (0, 1, 8, 9, 16, 17)] == [0, 1, 1, 2, 2, 3]


def test_queued_task_scales_out_from_zero_at_once() -> None:
    decision = decide(LIMITS, observe(queued=1), PoolMemory(), now=0, scale_in_grace_seconds=GRACE)
    assert (decision.action, decision.desired) == ("scale_out", 1)


def test_scale_out_is_capped_by_max() -> None:
    decision = decide(LIMITS, observe(queued=100, current=1), PoolMemory(), now=0, scale_in_grace_seconds=GRACE)
    assert (decision.action, decision.desired) == ("scale_out", 4)
    assert "clamped to [0, 4]" in decision.reason


def test_scale_in_waits_for_the_grace_period_then_goes_to_zero() -> None:
    memory = PoolMemory()
    for now in (0.0, 60.0, 119.0):
        decision = decide(LIMITS, observe(current=2), memory, now=now, scale_in_grace_seconds=GRACE)
        assert (decision.action, decision.desired) == ("wait", 2)
        memory = decision.memory
    assert memory.over_provisioned_since == 0.0
    decision = decide(LIMITS, observe(current=2), memory, now=120.0, scale_in_grace_seconds=GRACE)
    assert (decision.action, decision.desired) == ("scale_in", 0)


def test_new_work_during_the_grace_period_restarts_it() -> None:
    waiting = decide(LIMITS, observe(current=2), PoolMemory(), now=0, scale_in_grace_seconds=GRACE)
    busy_again = decide(LIMITS, observe(running=16, current=2, busy=2), waiting.memory, 60, GRACE)
    assert busy_again.action == "hold" and busy_again.memory.over_provisioned_since is None
    idle = decide(LIMITS, observe(current=2), busy_again.memory, now=130, scale_in_grace_seconds=GRACE)
    assert idle.action == "wait"


def test_never_below_busy_workers() -> None:
    # 3 tasks need 1 worker, but they run on 3 different workers: none may stop.
    decision = decide(
        LIMITS, observe(running=3, current=3, busy=3), PoolMemory(0), now=500, scale_in_grace_seconds=GRACE
    )
    assert (decision.action, decision.desired) == ("hold", 3)
    # 2 of 4 busy: only the 2 idle ones go, and the clock keeps running for the rest.
    decision = decide(
        LIMITS, observe(running=3, current=4, busy=2), PoolMemory(0), now=500, scale_in_grace_seconds=GRACE
    )
    assert (decision.action, decision.desired) == ("scale_in", 2)
    assert decision.memory.over_provisioned_since == 0


def test_unknown_data_never_scales() -> None:
    decision = decide(LIMITS, None, PoolMemory(0), now=10_000, scale_in_grace_seconds=GRACE)
    assert decision.action == "unknown" and decision.desired is None
    assert decision.memory == PoolMemory()  # the grace period starts again once data is back


def test_scheduled_action_bounds_win() -> None:
    # A night schedule sets the scalable target's max to 0: even queued work does not start workers.
    night = observe(queued=5, current=0, target_min=0, target_max=0)
    assert decide(LIMITS, night, PoolMemory(), now=0, scale_in_grace_seconds=GRACE).desired == 0
    # A business-hours schedule keeps 2 warm workers although the pool's min is 0.
    day = observe(current=2, target_min=2, target_max=10)
    assert decide(LIMITS, day, PoolMemory(0), now=1000, scale_in_grace_seconds=GRACE).action == "hold"
    assert bounds(LIMITS, day) == (2, 4)


def test_deployment_in_progress_blocks_scale_in_but_not_scale_out() -> None:
    deploying = "deployment in progress (2 deployments)"
    idle = observe(current=2, scale_in_blocked=deploying)
    decision = decide(LIMITS, idle, PoolMemory(0), now=1000, scale_in_grace_seconds=GRACE)
    assert (decision.action, decision.desired) == ("hold", 2) and deploying in decision.reason
    assert decide(LIMITS, observe(queued=9, current=1, scale_in_blocked=deploying), PoolMemory(), 0, GRACE).desired == 2


def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(ValueError):
        PoolLimits(concurrency=0, min_workers=0, max_workers=1)
    with pytest.raises(ValueError):
        PoolLimits(concurrency=1, min_workers=3, max_workers=1)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[PoolLimits, Observation, PoolMemory, float, float]:
    low = draw(st.integers(0, 10))
    limits = PoolLimits(draw(st.integers(1, 32)), low, draw(st.integers(max(low, 1), 20)))
    current = draw(st.integers(0, 25))
    observation = Observation(
        queued=draw(st.integers(0, 500)),
        running=draw(st.integers(0, 500)),
        current_workers=current,
        busy_workers=draw(st.integers(0, current)),
        scale_in_blocked=draw(st.sampled_from([None, "deployment in progress"])),
    )
    memory = PoolMemory(draw(st.one_of(st.none(), st.floats(0, 1000))))
    now = draw(st.floats(1000, 5000))
    return limits, observation, memory, now, draw(st.floats(0, 3600))


@given(scenarios())
def test_never_above_max_or_below_min_unless_workers_are_busy(case: tuple) -> None:  # type: ignore[type-arg]
    limits, observation, memory, now, grace = case
    decision = decide(limits, observation, memory, now, grace)
    assert decision.desired is not None
    if decision.action in ("scale_out", "scale_in"):
        assert decision.desired != observation.current_workers
    if decision.action == "scale_out":
        assert limits.min_workers <= decision.desired <= limits.max_workers
    if decision.action == "scale_in":
        assert decision.desired >= limits.min_workers
        assert decision.desired >= observation.busy_workers  # never stops a busy worker
        assert observation.scale_in_blocked is None
    # Whatever it does, it never goes above max unless it is keeping workers that already exist.
    assert decision.desired <= max(limits.max_workers, observation.current_workers)
    assert decision.desired >= min(observation.current_workers, limits.min_workers) or decision.action == "hold"


@given(scenarios())
def test_idempotent(case: tuple) -> None:  # type: ignore[type-arg]
    limits, observation, memory, now, grace = case
    first = decide(limits, observation, memory, now, grace)
    assert decide(limits, observation, memory, now, grace) == first
    assert first.desired is not None
    # Once applied, the same load gives the same size again: no flapping.
    applied = Observation(
        observation.queued,
        observation.running,
        first.desired,
        min(observation.busy_workers, first.desired),
        scale_in_blocked=observation.scale_in_blocked,
    )
    again = decide(limits, applied, first.memory, now, grace)
    assert again.desired == first.desired
    assert again.action in ("hold", "wait") or (first.action == "wait" and again.action == "wait")
