"""Cost of counting active task instances on a metadata DB with 10 million task_instance rows.

Side by side, in one run, on a real PostgreSQL with the schema of ``airflow db migrate``:
- ours: the autoscaler's query (deploy_airflow_on_ecs_fargate.autoscaler.active_tasks);
- keda: the Airflow Helm chart's default KEDA trigger query (chart docs "Autoscaling with KEDA":
  ceil(COUNT(*)::decimal / concurrency) FROM task_instance WHERE (state='running' OR
  state='queued') AND queue IN (<queues>));
- seed: the seed original's query (hankehly/deploy-airflow-on-ecs-fargate,
  scripts/put_airflow_worker_autoscaling_metric_data.py): queued+running counted per dag_id,
  joined to active, unpaused DAGs and summed. Airflow 3 replaced ``dag.is_active`` by
  ``dag.is_stale``, so "is_active = true" is written "is_stale = false".
Each runs with and without a candidate partial index on the active rows (Airflow's own ``ti_state`` index is
always there, as in production), first on a freshly vacuumed table, then after ``--churn`` task
instances went through queued -> running -> success with no vacuum in between (what the table looks
like between two autovacuums).

Run: ``.venv/bin/python benchmarks/autoscaler_query_cost.py [--rows 10000000] [--keep /tmp/dir]``.
With --keep the generated database is kept in that directory and reused by the next run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import sqlalchemy as sa
from autoscaler_metadata_db import start

from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import active_tasks_query

# The candidate index that was measured and rejected (see the module docstring of active_tasks):
# a partial index holding only the active rows, covering the query (index-only scan).
INDEX_NAME = "ecsflow_ti_active_by_queue"
CANDIDATE_INDEX = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX_NAME} ON task_instance (queue, state, hostname) "
    "WHERE state IN ('queued', 'running')"
)
QUEUED, RUNNING, SCHEDULED = 200, 300, 500  # the active rows among the millions (a busy moment)


def generate(engine: sa.Engine, rows: int) -> None:
    runs = max(rows // 1000, 1)
    with engine.begin() as c:
        c.execute(sa.text("SET LOCAL maintenance_work_mem = '1GB'"))
        c.execute(sa.text("INSERT INTO dag_bundle (name) VALUES ('bench') ON CONFLICT DO NOTHING"))
        c.execute(
            sa.text(
                "INSERT INTO dag (dag_id, is_paused, is_stale, bundle_name, timetable_type, partition_mapper_info, "
                "max_active_tasks, max_consecutive_failed_dag_runs, has_task_concurrency_limits) "
                "SELECT 'dag_' || g, g % 10 = 0, false, 'bench', '', '{}', 16, 0, false FROM generate_series(0, 99) g"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO dag_run (dag_id, run_id, run_type, run_after, state) "
                "SELECT 'dag_' || (g % 100), 'run_' || g, 'scheduled', now(), 'success' "
                "FROM generate_series(0, :n - 1) g"
            ),
            {"n": runs},
        )
        # Bulk load without the secondary indexes, then rebuild them exactly as Airflow defined them.
        indexes = c.execute(
            sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'task_instance' "
                "AND indexname NOT IN ('task_instance_pkey', 'task_instance_composite_key')"
            )
        ).all()
        for name, _ in indexes:
            c.execute(sa.text(f"DROP INDEX {name}"))
        c.execute(
            sa.text(
                "INSERT INTO task_instance (id, task_id, dag_id, run_id, map_index, try_number, max_tries, pool, "
                "pool_slots, priority_weight, state, queue, hostname) "
                "SELECT gen_random_uuid(), 'task_' || (g % 1000), 'dag_' || ((g / 1000) % 100), 'run_' || (g / 1000), "
                "-1, 1, 0, 'default_pool', 1, 1, "
                "CASE WHEN g % 20 = 0 THEN 'failed' WHEN g % 20 = 1 THEN 'skipped' ELSE 'success' END, "
                "CASE WHEN g % 5 = 0 THEN 'heavy' ELSE 'default' END, 'ip-10-0-' || (g % 250) "
                "FROM generate_series(0, :n - 1) g"
            ),
            {"n": runs * 1000},
        )
        for _, definition in indexes:
            c.execute(sa.text(definition))
    with engine.begin() as c:
        # The newest runs are busy: some tasks queued, running or scheduled (updates, as in production).
        for state, count, offset in (
            ("queued", QUEUED, 0),
            ("running", RUNNING, QUEUED),
            ("scheduled", SCHEDULED, QUEUED + RUNNING),
        ):
            c.execute(
                sa.text(
                    "UPDATE task_instance SET state = :s WHERE id IN (SELECT id FROM task_instance "
                    "WHERE run_id IN (SELECT run_id FROM dag_run ORDER BY id DESC LIMIT 2) "
                    "ORDER BY task_id OFFSET :o LIMIT :n)"
                ),
                {"s": state, "n": count, "o": offset},
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE task_instance"))


def churn(engine: sa.Engine, count: int, batch: int = 5000) -> None:
    """Cycle ``count`` finished task instances through queued -> running -> success without vacuum."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("ALTER TABLE task_instance SET (autovacuum_enabled = false)"))
    done = 0
    while done < count:
        with engine.begin() as c:
            ids = [
                row[0]
                for row in c.execute(
                    sa.text(
                        "SELECT id FROM task_instance WHERE id >= gen_random_uuid() AND state = 'success' "
                        "ORDER BY id LIMIT :n"
                    ),
                    {"n": min(batch, count - done)},
                )
            ]
            for state in ("queued", "running", "success"):
                c.execute(
                    sa.text("UPDATE task_instance SET state = :s WHERE id = ANY(CAST(:ids AS uuid[]))"),
                    {"s": state, "ids": ids},
                )
        done += len(ids)


def queries(engine: sa.Engine) -> dict[str, str]:
    ours = str(active_tasks_query().compile(engine, compile_kwargs={"literal_binds": True}))
    keda = (
        "SELECT ceil(COUNT(*)::decimal / 8) FROM task_instance "
        "WHERE (state='running' OR state='queued') AND queue IN ('default')"
    )
    seed = (
        "SELECT sum(c.count) FROM (SELECT dag_id, count(*) AS count FROM task_instance "
        "WHERE state IN ('queued', 'running') GROUP BY dag_id) AS c JOIN dag ON dag.dag_id = c.dag_id "
        "WHERE dag.is_stale = false AND dag.is_paused = false"
    )
    return {"ours": ours, "keda": keda, "seed": seed}


def measure(engine: sa.Engine, sql: str, repeat: int) -> tuple[float, float, str, int]:
    """(p50 ms, p95 ms) client-side wall time, the plan's access path and shared buffers touched."""
    with engine.connect() as c:
        for _ in range(5):
            c.execute(sa.text(sql)).all()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            c.execute(sa.text(sql)).all()
            times.append((time.perf_counter() - started) * 1000)
        plan = [row[0] for row in c.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))]
    scans = [line.strip().lstrip("-> ").split("  ")[0] for line in plan if "Scan" in line]
    buffers = 0
    for line in plan:
        if "Buffers: shared" in line and buffers == 0:
            for part in line.split():
                if part.startswith(("hit=", "read=")):
                    buffers += int(part.split("=")[1])
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], "; ".join(scans), buffers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--churn", type=int, default=300_000, help="task instances cycled before the 2nd phase")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated database in this directory")
    args = parser.parse_args()
    pgdata = args.keep / "pgdata" if args.keep else None
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    _server, url = start(pgdata)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        existing = c.execute(sa.text("SELECT count(*) FROM task_instance")).scalar() or 0
    if existing != args.rows:
        if existing:
            with engine.begin() as c:
                c.execute(sa.text("TRUNCATE task_instance, dag_run, dag CASCADE"))
        started = time.perf_counter()
        generate(engine, args.rows)
        print(f"generated {args.rows:,} task_instance rows in {time.perf_counter() - started:.0f}s")
    with engine.connect() as c:
        total = c.execute(sa.text("SELECT count(*) FROM task_instance")).scalar()
        size = c.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size('task_instance'))")).scalar()
        active = c.execute(
            sa.text(
                "SELECT state, count(*) FROM task_instance "
                "WHERE state IN ('queued', 'running', 'scheduled') GROUP BY state ORDER BY state"
            )
        ).all()
        version = c.execute(sa.text("SHOW server_version")).scalar()
    print(f"PostgreSQL {version}; task_instance: {total:,} rows, {size} with indexes; active: {dict(active)}")
    results = []
    for phase in ("vacuumed", "churned"):
        if phase == "churned":
            # Between two autovacuums: on a 10M-row table autovacuum waits for ~2M dead tuples
            # (autovacuum_vacuum_scale_factor 0.2), so many task instances have gone through
            # queued -> running -> success since the last vacuum, each leaving dead index entries.
            started = time.perf_counter()
            churn(engine, args.churn)
            print(
                f"churned {args.churn:,} task instances (queued -> running -> success, autovacuum off) "
                f"in {time.perf_counter() - started:.0f}s"
            )
        for with_index in (False, True) if phase == "vacuumed" else (True, False):
            if not with_index:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(sa.text(f"DROP INDEX IF EXISTS {INDEX_NAME}"))
            elif phase == "vacuumed":
                started = time.perf_counter()
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(sa.text(CANDIDATE_INDEX))
                build = time.perf_counter() - started
                print(f"candidate index built in {build:.1f}s (CREATE INDEX CONCURRENTLY on {total:,} rows)")
                with engine.connect() as c:
                    index_size = c.execute(sa.text(f"SELECT pg_size_pretty(pg_relation_size('{INDEX_NAME}'))")).scalar()
                print(f"partial index size: {index_size}")
            for name, sql in queries(engine).items():
                p50, p95, scans, buffers = measure(engine, sql, args.repeat)
                results.append((phase, name, "yes" if with_index else "no", p50, p95, buffers, scans))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("ALTER TABLE task_instance RESET (autovacuum_enabled)"))
        c.execute(sa.text("VACUUM ANALYZE task_instance"))  # leave a kept database clean for the next run
    print()
    print(f"{'table':9} {'query':6} {'candidate':9} {'p50 ms':>8} {'p95 ms':>8} {'buffers':>8}  plan")
    for phase, name, index, p50, p95, buffers, scans in results:
        print(f"{phase:9} {name:6} {index:9} {p50:8.2f} {p95:8.2f} {buffers:8d}  {scans}")
    engine.dispose()  # the wheel stops the server (and deletes a temporary pgdata) at exit


if __name__ == "__main__":
    main()
