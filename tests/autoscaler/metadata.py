"""Rows in Airflow's metadata tables for the tests and benchmarks (the tables come from ``airflow db migrate``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa

DAG_ID = "autoscaler_test"
RUN_ID = "manual__test"


def clear(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM task_instance"))
        connection.execute(sa.text("DELETE FROM dag_run"))


def ensure_run(connection: sa.Connection, dag_id: str = DAG_ID, run_id: str = RUN_ID) -> None:
    connection.execute(sa.text("INSERT INTO dag_bundle (name) VALUES ('tests') ON CONFLICT DO NOTHING"))
    connection.execute(
        sa.text(
            "INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, timetable_type, partition_mapper_info, "
            "max_active_tasks, max_consecutive_failed_dag_runs, has_task_concurrency_limits) "
            "VALUES (:d, false, false, 'tests', '', '{}', 16, 0, false) ON CONFLICT DO NOTHING"
        ),
        {"d": dag_id},
    )
    connection.execute(
        sa.text(
            "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, state) "
            "SELECT :d, :r, 'manual', now(), 'running' "
            "WHERE NOT EXISTS (SELECT 1 FROM dag_run WHERE dag_id = :d AND run_id = :r)"
        ),
        {"d": dag_id, "r": run_id},
    )


def add_task_instances(
    engine: sa.Engine,
    state: str,
    count: int,
    queue: str | None = "default",
    hostnames: Iterable[str] | None = None,
    pids: Iterable[int] | None = None,
    prefix: str = "t",
) -> list[str]:
    """Insert ``count`` task instances in ``state``; returns their task ids."""
    hosts = list(hostnames or [])
    pid_list = list(pids or [])
    ids = [f"{prefix}-{state}-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    with engine.begin() as connection:
        ensure_run(connection)
        for i, task_id in enumerate(ids):
            connection.execute(
                sa.text(
                    "INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, max_tries, pool, "
                    "pool_slots, state, queue, hostname, pid) VALUES (:id, :t, :d, :r, -1, 1, 0, 'default_pool', 1, "
                    ":s, :q, :h, :p)"
                ),
                {
                    "id": str(uuid.uuid4()),
                    "t": task_id,
                    "d": DAG_ID,
                    "r": RUN_ID,
                    "s": state,
                    "q": queue,
                    "h": hosts[i % len(hosts)] if hosts else None,
                    "p": pid_list[i] if i < len(pid_list) else None,
                },
            )
    return ids


def set_state(engine: sa.Engine, task_ids: Iterable[str], state: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE task_instance SET state = :s WHERE task_id = ANY(:ids)"),
            {"s": state, "ids": list(task_ids)},
        )
