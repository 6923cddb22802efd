"""Where the local environment keeps its files, all under ``local.data_dir``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deploy_airflow_on_ecs_fargate.config import REPO_ROOT, Settings


@dataclass(frozen=True)
class Layout:
    data_dir: Path

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        return cls(settings.local.resolved_data_dir().resolve())

    @property
    def postgres_dir(self) -> Path:
        """PostgreSQL's data directory; kept across restarts."""
        return self.data_dir / "postgres"

    @property
    def logs_dir(self) -> Path:
        """One ``<component>.log`` per process."""
        return self.data_dir / "logs"

    @property
    def run_dir(self) -> Path:
        """PID files."""
        return self.data_dir / "run"

    @property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"

    @property
    def secrets_file(self) -> Path:
        return self.data_dir / "secrets.json"

    @property
    def state_file(self) -> Path:
        """What the supervisor reports: phase, message, components, endpoints."""
        return self.data_dir / "state.json"

    @property
    def migrated_file(self) -> Path:
        """Database and versions of the last successful `airflow db migrate`."""
        return self.data_dir / "migrated.json"

    @property
    def autoscaler_state_file(self) -> Path:
        return self.data_dir / "autoscaler-state.json"

    @property
    def dags_dir(self) -> Path:
        return REPO_ROOT / "dags"

    @property
    def plugins_dir(self) -> Path:
        return REPO_ROOT / "plugins"

    def log_file(self, component: str) -> Path:
        return self.logs_dir / f"{component}.log"

    def pid_file(self, component: str) -> Path:
        return self.run_dir / f"{component}.pid"

    def create(self) -> None:
        for directory in (self.data_dir, self.logs_dir, self.run_dir, self.airflow_home):
            directory.mkdir(parents=True, exist_ok=True)
