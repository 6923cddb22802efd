"""The count query against the schema Airflow's migrations create, on a real PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import (
    QueueLoad,
    active_tasks_query,
    count_active_tasks,
    running_task_pids,
)
from tests.autoscaler import metadata


def test_counts_only_queued_and_running_per_queue(db) -> None:  # type: ignore[no-untyped-def]
    engine = db.engine
    metadata.add_task_instances(engine, "queued", 3, queue="default")
    metadata.add_task_instances(engine, "running", 5, queue="default", hostnames=["ip-10-0-0-1", "ip-10-0-0-2"])
    metadata.add_task_instances(engine, "running", 2, queue="heavy", hostnames=["ip-10-0-0-9"], pids=[4242, 4243])
    metadata.add_task_instances(engine, "queued", 1, queue=None)  # counted in the default queue
    for other in ("scheduled", "deferred", "up_for_retry", "success", "failed", "skipped", "removed"):
        metadata.add_task_instances(engine, other, 2, queue="default")
    with engine.connect() as connection:
        loads = count_active_tasks(connection, default_queue="default")
        pids = running_task_pids(connection, default_queue="default")
    assert loads == {
        "default": QueueLoad(queued=4, running=5, busy_hosts=2),
        "heavy": QueueLoad(queued=0, running=2, busy_hosts=1),
    }
    assert pids == {"heavy": {4242, 4243}}


def test_empty_table_means_no_load(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as connection:
        assert count_active_tasks(connection, "default") == {}


def test_the_count_is_served_by_airflows_own_state_index(db) -> None:  # type: ignore[no-untyped-def]
    # No index of ours: Airflow's ti_state (btree on state) must be usable for the count, or the
    # query would scan the whole table (see benchmarks/autoscaler_query_cost.py for the figures).
    query = str(active_tasks_query().compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.begin() as connection:
        # On a tiny table the planner prefers a sequential scan; forbid it to see the index is usable.
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.execute(sa.text(f"EXPLAIN {query}")))
    assert "ti_state" in plan, plan
