"""Bad input to `ecsflow local up`: one line on stderr, non-zero exit, nothing started."""

from __future__ import annotations

import socket
from pathlib import Path

from deploy_airflow_on_ecs_fargate.local.isolated import free_port
from tests.local.conftest import ecsflow, error_lines, local_env


def assert_one_line_error(result_stderr: str, *fragments: str) -> None:
    lines = error_lines(result_stderr)
    assert len(lines) == 1, result_stderr
    assert lines[0].startswith("ecsflow: ")
    assert "Traceback" not in result_stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_port_in_use(tmp_path: Path) -> None:
    env = local_env(tmp_path / "data")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(env["ECSFLOW_LOCAL__MOTO_PORT"])))
        busy.listen()
        result = ecsflow(env, "local", "up", timeout=60)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, f"port {env['ECSFLOW_LOCAL__MOTO_PORT']}", "local.moto_port")
    assert not (tmp_path / "data" / "run" / "supervisor.pid").exists()
    assert not (tmp_path / "data" / "postgres").exists()


def test_unreachable_database_url(tmp_path: Path) -> None:
    url = f"postgresql://airflow:secret@127.0.0.1:{free_port()}/airflow"
    env = local_env(tmp_path / "data", ECSFLOW_LOCAL__DATABASE_URL=url)
    result = ecsflow(env, "local", "up", timeout=60)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "cannot reach local.database_url")
    assert "secret" not in result.stderr  # never print the password


def test_invalid_config_value(tmp_path: Path) -> None:
    env = local_env(tmp_path / "data", ECSFLOW_LOCAL__API_PORT="80")
    result = ecsflow(env, "local", "up", timeout=60)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "local.api_port")


def test_logs_of_an_unknown_component(tmp_path: Path) -> None:
    result = ecsflow(local_env(tmp_path / "data"), "local", "logs", "nope", timeout=60)
    assert result.returncode == 2
    assert_one_line_error(result.stderr, "no log for 'nope'")


def test_status_and_down_when_nothing_runs(tmp_path: Path) -> None:
    env = local_env(tmp_path / "data")
    status = ecsflow(env, "local", "status", "--output", "json", timeout=60)
    assert status.returncode == 0, status.stderr
    assert '"phase": "stopped"' in status.stdout
    down = ecsflow(env, "local", "down", timeout=60)
    assert down.returncode == 0
    assert "Nothing was running" in down.stdout
