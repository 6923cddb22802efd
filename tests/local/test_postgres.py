"""The embedded PostgreSQL: starts (as an unprivileged user when root), keeps data across restarts, stops."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from deploy_airflow_on_ecs_fargate.local import processes
from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError
from deploy_airflow_on_ecs_fargate.local.isolated import free_port
from deploy_airflow_on_ecs_fargate.local.postgres import EmbeddedPostgres, admin_exists, check_reachable


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's temp root, whose 0700 mode the unprivileged server user could not traverse.
    directory = Path(tempfile.mkdtemp(prefix="ecsflow-pg-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_data_survives_a_restart(data_dir: Path) -> None:
    server = EmbeddedPostgres(data_dir / "postgres", "127.0.0.1", free_port(), data_dir / "postgres.log")
    plain_url = server.url().replace("+psycopg", "")
    try:
        server.start()
        pid = server.running_pid()
        assert pid is not None
        if psutil.Process().username() == "root":
            assert psutil.Process(pid).username() == "pgserver"  # PostgreSQL refuses root
        with psycopg.connect(plain_url, autocommit=True) as connection:
            connection.execute("CREATE TABLE kept (value text)")
            connection.execute("INSERT INTO kept VALUES ('across restarts')")
        assert admin_exists(server.url(), "admin") is False  # no FAB tables yet

        server.stop()
        assert server.running_pid() is None
        assert not processes.alive(pid)  # gone (at most a zombie its parent has not reaped)

        server.start()
        with psycopg.connect(plain_url) as connection:
            assert connection.execute("SELECT value FROM kept").fetchone() == ("across restarts",)
    finally:
        server.stop()
    assert server.running_pid() is None


def test_unreachable_url_is_one_line_without_the_password() -> None:
    with pytest.raises(LocalEnvironmentError) as error:
        check_reachable(f"postgresql://user:hunter2@127.0.0.1:{free_port()}/airflow", timeout_seconds=2)
    message = str(error.value)
    assert message.startswith("cannot reach local.database_url (127.0.0.1:")
    assert "\n" not in message
    assert "hunter2" not in message
