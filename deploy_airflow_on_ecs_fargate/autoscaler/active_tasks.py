"""Count the task instances the Celery workers will run, per Celery queue, in one query.

Only ``queued`` (sent to the broker, waiting for a worker) and ``running`` (on a worker) count:
``scheduled`` tasks have not been handed to Celery yet, ``deferred`` ones wait on the triggerer,
``up_for_retry``/``up_for_reschedule`` wait for their time (they become queued again first).
The Airflow Helm chart's KEDA trigger counts the same two states:
https://airflow.apache.org/docs/helm-chart/stable/keda.html

Cost: no index of our own. The query filters on ``state IN ('queued', 'running')``, a few hundred
rows among millions, and Airflow's own ``ti_state`` index (btree on ``state``) serves it: 0.6 ms on
10 million rows freshly vacuumed, 2.5 ms between two autovacuums (300,000 task instances cycled
through queued -> running -> success). A partial covering index on the active rows was measured and
rejected: faster when vacuumed (0.4 ms) but 40 ms between vacuums, because index-only scans do not
mark the dead entries every state change leaves behind (``benchmarks/autoscaler_query_cost.py``,
docs/autoscaling.md). Not changing Airflow's schema also keeps ``airflow db migrate`` Airflow's own.
The table is described here with SQLAlchemy Core instead of importing Airflow's models, which
keeps the controller small and fast to start; the tests run this query against the schema
Airflow's own ``airflow db migrate`` creates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger(__name__)

QUEUED = "queued"
RUNNING = "running"
ACTIVE_STATES = (QUEUED, RUNNING)

task_instance = sa.table(
    "task_instance",
    sa.column("queue", sa.String),
    sa.column("state", sa.String),
    sa.column("hostname", sa.String),
    sa.column("pid", sa.Integer),
)


@dataclass(frozen=True)
class QueueLoad:
    queued: int = 0
    running: int = 0
    # Distinct hosts running this queue's tasks: on ECS each worker task has its own hostname.
    busy_hosts: int = 0


def active_tasks_query() -> sa.Select[Any]:
    ti = task_instance.c
    return (
        sa.select(
            ti.queue,
            sa.func.count().filter(ti.state == QUEUED),
            sa.func.count().filter(ti.state == RUNNING),
            sa.func.count(sa.distinct(ti.hostname)).filter(ti.state == RUNNING),
        )
        .where(ti.state.in_(ACTIVE_STATES))
        .group_by(ti.queue)
    )


def count_active_tasks(connection: Connection, default_queue: str) -> dict[str, QueueLoad]:
    """{queue: QueueLoad} for every queue with active tasks; a NULL queue counts as ``default_queue``."""
    loads: dict[str, QueueLoad] = {}
    for queue, queued, running, busy_hosts in connection.execute(active_tasks_query()):
        name = queue or default_queue
        previous = loads.get(name, QueueLoad())
        loads[name] = QueueLoad(
            previous.queued + int(queued), previous.running + int(running), previous.busy_hosts + int(busy_hosts)
        )
    return loads


def running_task_pids(connection: Connection, default_queue: str) -> dict[str, set[int]]:
    """PIDs of running task processes per queue (the local backend maps them to its workers)."""
    ti = task_instance.c
    query = sa.select(ti.queue, ti.pid).where(ti.state == RUNNING, ti.pid.is_not(None))
    pids: dict[str, set[int]] = {}
    for queue, value in connection.execute(query):
        pids.setdefault(queue or default_queue, set()).add(int(value))
    return pids


def create_engine(url: str) -> Engine:
    """A small engine for the controller: it must fail fast instead of hanging a poll."""
    if not url.startswith("postgres"):
        return sa.create_engine(url, pool_pre_ping=True)
    # https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
    connect_args = {"connect_timeout": 5, "options": "-c statement_timeout=5000"}
    return sa.create_engine(url, pool_size=1, max_overflow=1, pool_pre_ping=True, connect_args=connect_args)
