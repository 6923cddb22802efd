"""A stand-in for ``airflow celery worker`` with the same process shape and signal behaviour.

``python fake_worker.py <control dir> <pool> <index>``: a main process that starts a "pool"
process (depth 1, like Celery's prefork pool) and, when ``<control dir>/task-<pool>-<index>``
appears, runs a task process below it (depth 2, like Airflow's supervisor forking the task) for
the number of seconds written in that file. SIGTERM is a warm shutdown: no new task, the running
one finishes, then exit 0 — what Celery does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def pool_process(control: Path, name: str) -> None:
    stopping = False

    def on_term(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    trigger = control / f"task-{name}"
    while not stopping:
        if trigger.exists():
            seconds = float(trigger.read_text() or "1")
            trigger.unlink()
            task = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
            (control / f"task-{name}.pid").write_text(str(task.pid))
            task.wait()
            (control / f"task-{name}.done").write_text(str(task.returncode))
        time.sleep(0.05)


def main() -> None:
    control, pool, index = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    name = f"{pool}-{index}"
    print(f"fake worker {name} pid {os.getpid()} mark={os.environ.get('ECSFLOW_TEST_MARK')}", flush=True)
    child = os.fork()
    if child == 0:
        pool_process(control, name)
        os._exit(0)

    def on_term(*_: object) -> None:
        print(f"fake worker {name}: warm shutdown", flush=True)
        os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    os.waitpid(child, 0)
    print(f"fake worker {name}: stopped", flush=True)


if __name__ == "__main__":
    main()
