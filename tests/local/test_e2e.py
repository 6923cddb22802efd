"""End to end: `ecsflow local up` in a temp data dir, real DAG runs, S3 task logs, secrets, the UI.

One environment for the whole session (the `local_environment` fixture); `down` at the end must
leave no process of it behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy_airflow_on_ecs_fargate.local import processes
from deploy_airflow_on_ecs_fargate.local.environment import INSTANCE_VAR
from tests.local.conftest import OUTPUT_DIR, ecsflow, error_lines, local_env, settings_for

pytestmark = pytest.mark.e2e

RUN_TIMEOUT_SECONDS = 180


@dataclass
class LocalEnvironment:
    env: dict[str, str]
    data_dir: Path
    api_url: str
    moto_endpoint: str
    region: str = "us-east-1"
    token: str = ""
    status: dict[str, Any] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url + "/api/v2", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.moto_endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def trigger(self, dag_id: str) -> str:
        with self.client() as client:
            response = client.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
        assert response.status_code == 200, response.text
        return str(response.json()["dag_run_id"])

    def wait_for(self, dag_id: str, run_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        with self.client() as client:
            while time.monotonic() < deadline:
                run: dict[str, Any] = client.get(f"/dags/{dag_id}/dagRuns/{quote(run_id)}").json()
                if run["state"] in {"success", "failed"}:
                    return run
                time.sleep(0.5)
        raise AssertionError(f"{dag_id} {run_id} did not finish in {RUN_TIMEOUT_SECONDS} s")


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")


@pytest.fixture(scope="session")
def local_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEnvironment]:
    # Not under pytest's own temp root: pytest resets its mode to 0700 on every session start
    # (other sessions may run at the same time), and the embedded Postgres runs as another user when root.
    data_dir = Path(tempfile.mkdtemp(prefix="ecsflow-local-e2e-"))
    # The default configuration: workers started on demand by the autoscaler (none while idle).
    env = local_env(data_dir)
    started = time.monotonic()
    up = ecsflow(env, "local", "up", timeout=420)
    try:
        assert up.returncode == 0, f"up failed: {up.stderr}\n{up.stdout}"
        print(f"local environment up in {time.monotonic() - started:.1f} s")
        status = json.loads(ecsflow(env, "local", "status", "--output", "json").stdout)
        handle = LocalEnvironment(
            env=env,
            data_dir=data_dir,
            api_url=status["url"],
            moto_endpoint=f"http://127.0.0.1:{env['ECSFLOW_LOCAL__MOTO_PORT']}",
            status=status,
        )
        response = httpx.post(handle.api_url + "/auth/token", json={"username": "admin", "password": "admin"})
        assert response.status_code == 201, response.text
        handle.token = response.json()["access_token"]
        yield handle
    finally:
        down = ecsflow(env, "local", "down", timeout=180)
        leftovers = list(processes.marked_processes(INSTANCE_VAR, str(data_dir)))
        assert down.returncode == 0, down.stderr
        assert not leftovers, f"processes left behind: {[p.cmdline() for p in leftovers]}"
        assert not list((data_dir / "run").glob("*.pid"))
        shutil.rmtree(data_dir, ignore_errors=True)


def test_every_component_is_healthy(local_environment: LocalEnvironment) -> None:
    status = local_environment.status
    assert status["phase"] == "ready"
    health = {row["name"]: row["health"] for row in status["components"]}
    for name in ("moto", "postgres", "api-server", "scheduler", "dag-processor", "triggerer"):
        assert health[name] == "healthy", status
    workers = [row for row in status["components"] if row["name"] == "autoscaler" or row["name"].startswith("worker-")]
    assert workers and all(row["alive"] for row in workers), status


def test_secrets_from_secrets_manager_and_task_logs_in_s3(local_environment: LocalEnvironment) -> None:
    # A value that exists only in the Secrets Manager emulator, written just before the run.
    token = f"from-secrets-manager-{secrets.token_hex(6)}"
    secretsmanager = local_environment.aws("secretsmanager")
    secretsmanager.put_secret_value(SecretId="airflow/variables/example_greeting", SecretString=token)

    run_id = local_environment.trigger("example_secrets")
    run = local_environment.wait_for("example_secrets", run_id)
    assert run["state"] == "success"

    with local_environment.client() as client:
        path = f"/dags/example_secrets/dagRuns/{quote(run_id)}/taskInstances/read_secrets"
        xcom = client.get(f"{path}/xcomEntries/return_value").json()
        assert xcom["value"] == {"greeting": token, "host": "api.example.com", "login": "example-user"}

    # The worker uploads the attempt's log to S3 when the task process ends.
    s3 = local_environment.aws("s3")
    key = f"task-logs/dag_id=example_secrets/run_id={run_id}/task_id=read_secrets/attempt=1.log"
    deadline = time.monotonic() + 60
    while not s3.list_objects_v2(Bucket="airflow-task-logs", Prefix=key).get("Contents"):
        assert time.monotonic() < deadline, f"{key} never reached S3"
        time.sleep(0.5)
    body = s3.get_object(Bucket="airflow-task-logs", Key=key)["Body"].read().decode()
    assert token in body

    # The log as the UI gets it: the api-server names its source, the S3 object.
    with local_environment.client() as client:
        log = client.get(f"{path}/logs/1", headers={"Accept": "application/json"}).json()
    events = [str(entry.get("event", "")) for entry in log["content"]]
    assert f"s3://airflow-task-logs/{key}" in events
    assert any(token in event for event in events)
    assert not any("example-password-from-secrets-manager" in event for event in events)  # masked


def test_deferrable_and_mapped_tasks(local_environment: LocalEnvironment) -> None:
    runs = {dag_id: local_environment.trigger(dag_id) for dag_id in ("example_deferrable", "example_dynamic_mapping")}
    for dag_id, run_id in runs.items():
        assert local_environment.wait_for(dag_id, run_id)["state"] == "success", dag_id

    with local_environment.client() as client:
        mapping_run = quote(runs["example_dynamic_mapping"])
        squares = client.get(f"/dags/example_dynamic_mapping/dagRuns/{mapping_run}/taskInstances/square/listMapped")
        assert squares.json()["total_entries"] == 5
        total = client.get(
            f"/dags/example_dynamic_mapping/dagRuns/{mapping_run}/taskInstances/total/xcomEntries/return_value"
        )
        assert total.json()["value"] == 55

    # The sensor deferred: the triggerer's part of its log was uploaded next to the task's.
    s3 = local_environment.aws("s3")
    prefix = f"task-logs/dag_id=example_deferrable/run_id={runs['example_deferrable']}/task_id=wait_ten_seconds/"
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="airflow-task-logs", Prefix=prefix).get("Contents", [])]
    assert any(".trigger." in key for key in keys), keys


def test_ui_in_headless_chromium(local_environment: LocalEnvironment) -> None:
    from playwright.sync_api import expect, sync_playwright

    run_id = local_environment.trigger("benchmark_two_tasks")
    assert local_environment.wait_for("benchmark_two_tasks", run_id)["state"] == "success"
    OUTPUT_DIR.mkdir(exist_ok=True)
    screenshot = OUTPUT_DIR / "local-ui-dag-run.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(local_environment.api_url + "/", wait_until="domcontentloaded")
            # FAB's login form (the FAB auth manager redirects every unauthenticated page to it).
            page.wait_for_selector("input[name=username]", timeout=60_000)
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", "admin")
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=60_000)
            page.goto(
                f"{local_environment.api_url}/dags/benchmark_two_tasks/runs/{quote(run_id)}", wait_until="networkidle"
            )
            expect(page.get_by_text(run_id).first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("second").first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Success").first).to_be_visible(timeout=60_000)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000


def test_logs_command(local_environment: LocalEnvironment) -> None:
    result = ecsflow(local_environment.env, "local", "logs", "scheduler", "-n", "3")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3


def test_a_crashed_component_is_restarted(local_environment: LocalEnvironment) -> None:
    def triggerer() -> dict[str, Any]:
        status = json.loads(ecsflow(local_environment.env, "local", "status", "--output", "json").stdout)
        return next(row for row in status["components"] if row["name"] == "triggerer")

    before = triggerer()
    os.killpg(before["pid"], signal.SIGKILL)  # the whole component dies at once, as in a crash
    deadline = time.monotonic() + 120
    while True:
        now = triggerer()
        if now["restarts"] == before["restarts"] + 1 and now["pid"] != before["pid"] and now["health"] == "healthy":
            break
        assert time.monotonic() < deadline, now
        time.sleep(1)


def test_status_shows_the_autoscaler_decisions(local_environment: LocalEnvironment) -> None:
    status = json.loads(ecsflow(local_environment.env, "local", "status", "--output", "json").stdout)
    autoscaler = next(row for row in status["components"] if row["name"] == "autoscaler")
    assert autoscaler["detail"].startswith("default: "), autoscaler
    assert "last decision" in autoscaler["detail"]


def test_a_failed_start_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start that fails half-way stops what it started and says why in one line.

    The failure: the data directory claims a migrated database that is empty, so `airflow db
    migrate` is skipped and the first Airflow command that needs the schema fails.
    """
    from deploy_airflow_on_ecs_fargate.local import migrations
    from deploy_airflow_on_ecs_fargate.local.layout import Layout
    from deploy_airflow_on_ecs_fargate.local.supervisor import embedded_postgres

    data_dir = Path(tempfile.mkdtemp(prefix="ecsflow-local-failed-"))
    try:
        env = local_env(data_dir)
        settings = settings_for(env, monkeypatch)
        layout = Layout.of(settings)
        layout.create()
        migrations.record(layout, embedded_postgres(settings, layout).url())

        result = ecsflow(env, "local", "up", timeout=300)
        assert result.returncode == 1
        lines = error_lines(result.stderr)
        assert len(lines) == 1 and lines[0].startswith("ecsflow: "), result.stderr
        assert "(log: " in lines[0]
        assert not list(processes.marked_processes(INSTANCE_VAR, str(data_dir)))
        assert not list((data_dir / "run").glob("*.pid"))
        assert embedded_postgres(settings, layout).running_pid() is None
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
