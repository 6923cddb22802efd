"""The seed's commands still work: `python scripts/run_task.py --profile X --wait-tasks-stopped --command 'db init'`.

The script runs as its own process, so moto runs as a server (on a free port, bound to 127.0.0.1)
and the process reaches it through AWS_ENDPOINT_URL; the fake stack is built through the same server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from .conftest import build_fake_stack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def moto_server(monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield
    # The server keeps its state in this process's moto backends: empty them for the next test.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    server.stop()


def test_seed_run_task_command(moto_server, task_script, aws_environment, tmp_path):
    build_fake_stack()
    (tmp_path / "aws-config").write_text("[profile seed]\nregion = eu-west-1\n")
    (tmp_path / "aws-credentials").write_text("[seed]\naws_access_key_id = a\naws_secret_access_key = b\n")
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    result = subprocess.run(
        [sys.executable, "scripts/run_task.py", "--profile", "seed", "--wait-tasks-stopped", "--command", "db init"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "does not exist in Airflow 3" in result.stderr
    assert "task finished with exit code 0" in result.stderr
    (task,) = task_script.started
    assert task.overrides["containerOverrides"][0]["command"] == ["db", "migrate"]


def test_seed_run_task_exit_code(moto_server, task_script, aws_environment):
    build_fake_stack()
    task_script.exit_code = 4
    result = subprocess.run(
        [sys.executable, "scripts/run_task.py", "--wait-tasks-stopped", "--command", "dags list-import-errors"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 4, result.stderr


def test_seed_script_with_a_python_lacking_the_packages_goes_through_the_launcher(
    moto_server, task_script, aws_environment
):
    """`py -3 scripts/run_task.py ...` with a bare Python: the script hands over to ./ecsflow (venv)."""
    build_fake_stack()
    # -S: no site-packages, like a system Python without typer/boto3.
    result = subprocess.run(
        [sys.executable, "-S", "scripts/run_task.py", "--wait-tasks-stopped", "--command", "db upgrade"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "task finished with exit code 0" in result.stderr
    assert task_script.started[0].overrides["containerOverrides"][0]["command"] == ["db", "migrate"]
