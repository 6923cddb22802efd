"""The supervisor's report (``<data_dir>/state.json``), read by ``up``, ``status`` and the tests."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Phase = Literal["starting", "ready", "failed", "stopping", "stopped"]


class ComponentState(BaseModel):
    pid: int | None = None
    restarts: int = 0
    log: str = ""
    crashed: bool = False  # exited more often than local.max_restarts allows


class EnvironmentState(BaseModel):
    phase: Phase = "starting"
    message: str = ""
    supervisor_pid: int | None = None
    api_url: str = ""
    moto_endpoint: str = ""
    log_bucket: str = ""
    queue_urls: dict[str, str] = Field(default_factory=dict)
    external_database: bool = False
    components: dict[str, ComponentState] = Field(default_factory=dict)
    updated_at: float = 0.0

    def save(self, path: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        self.updated_at = time.time()
        temporary = path.with_suffix(".tmp")
        temporary.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        temporary.replace(path)

    @classmethod
    def load(cls, path: Path) -> EnvironmentState | None:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return cls.model_validate(data)
