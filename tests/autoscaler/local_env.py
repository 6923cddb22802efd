"""Start/stop an isolated local environment (``ecsflow local up``) with worker autoscaling on.

Shared by the autoscaler's end-to-end test and the end-to-end benchmark: its own data directory,
free ports, the real command line, and the autoscaler's state file to watch the workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from deploy_airflow_on_ecs_fargate.config import REPO_ROOT
from deploy_airflow_on_ecs_fargate.local.isolated import isolated_environment


@dataclass
class AutoscaledEnvironment:
    data_dir: Path
    env: dict[str, str]
    api_url: str = ""
    token: str = ""

    @classmethod
    def create(cls, data_dir: Path, grace_seconds: int, **extra: str) -> AutoscaledEnvironment:
        autoscaling = {
            "ECSFLOW_LOCAL__WORKER_AUTOSCALING": "true",
            "ECSFLOW_AUTOSCALER__SCALE_IN_GRACE_SECONDS": str(grace_seconds),
        }
        env = isolated_environment(data_dir, **{**autoscaling, **extra})
        return cls(data_dir, env)

    def ecsflow(self, *args: str, timeout: float = 420) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "deploy_airflow_on_ecs_fargate.cli", *args],
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def up(self) -> None:
        result = self.ecsflow("local", "up")
        if result.returncode != 0:
            raise RuntimeError(f"ecsflow local up failed: {result.stderr[-3000:]}\n{result.stdout[-3000:]}")
        self.api_url = f"http://127.0.0.1:{self.env['ECSFLOW_LOCAL__API_PORT']}"
        response = httpx.post(self.api_url + "/auth/token", json={"username": "admin", "password": "admin"})
        response.raise_for_status()
        self.token = response.json()["access_token"]

    def down(self) -> subprocess.CompletedProcess[str]:
        return self.ecsflow("local", "down", timeout=180)

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api_url + "/api/v2", headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )

    def state(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.data_dir / "autoscaler-state.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data

    def worker_pids(self) -> list[int]:
        return [pid for pids in self.state().get("worker_pids", {}).values() for pid in pids]

    def wait(self, condition: Any, timeout: float, what: str) -> float:
        """Poll ``condition`` every 0.1 s; returns the time.time() it became true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return time.time()
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")
