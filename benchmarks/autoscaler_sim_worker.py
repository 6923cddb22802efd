"""A simulated Celery worker for the scale-in safety benchmark (not used in production).

``python autoscaler_sim_worker.py <db url> <queue> <concurrency>``. Same process shape and
signals as ``airflow celery worker`` with the prefork pool: the main process forks
``concurrency`` pool processes; a pool process takes one queued task instance of its queue from
the metadata DB (marks it running, as Airflow's supervisor does through the Execution API), forks
the task process, records its PID on the task instance, and the task process marks it success when
its work (sleep for the duration encoded in the task id) is done. SIGTERM to the main process is a
warm shutdown: the pool processes take no new task and finish the one they run, then everything
exits 0. A SIGKILL (stop timeout exceeded) kills the task mid-way: it stays "running" forever.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time

import sqlalchemy as sa

CLAIM = sa.text(
    "UPDATE task_instance SET state = 'running', hostname = :host, start_date = now() WHERE id = ("
    "SELECT id FROM task_instance WHERE state = 'queued' AND queue = :queue "
    "ORDER BY task_id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id, task_id"
)


def run_task(url: str, ti_id: str, seconds: float) -> None:
    time.sleep(seconds)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as c:
        c.execute(sa.text("UPDATE task_instance SET state = 'success', end_date = now() WHERE id = :i"), {"i": ti_id})


def pool_process(url: str, queue: str) -> None:
    stopping = False

    def on_term(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    host = socket.gethostname()
    while not stopping:
        with engine.begin() as c:
            row = c.execute(CLAIM, {"host": host, "queue": queue}).first()
        if row is None:
            time.sleep(0.2)  # like a broker poll
            continue
        ti_id, task_id = row
        seconds = float(task_id.rsplit("-", 1)[1])
        task = os.fork()
        if task == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            run_task(url, str(ti_id), seconds)
            os._exit(0)
        with engine.begin() as c:
            c.execute(sa.text("UPDATE task_instance SET pid = :p WHERE id = :i"), {"p": task, "i": ti_id})
        os.waitpid(task, 0)


def main() -> None:
    url, queue, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    children = []
    for _ in range(concurrency):
        child = os.fork()
        if child == 0:
            pool_process(url, queue)
            os._exit(0)
        children.append(child)

    def on_term(*_: object) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    for child in children:
        while True:
            try:
                os.waitpid(child, 0)
                break
            except InterruptedError:
                continue


if __name__ == "__main__":
    main()
