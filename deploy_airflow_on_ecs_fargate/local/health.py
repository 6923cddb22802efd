"""Health of the local environment's parts, as ``status`` and ``up`` see it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from deploy_airflow_on_ecs_fargate.airflow_settings import HEALTH_PATH

HEALTHY = "healthy"


def airflow_health(api_url: str, timeout_seconds: float = 2) -> dict[str, Any] | None:
    """The api-server's health answer (metadatabase, scheduler, triggerer, dag_processor), or None."""
    try:
        with urllib.request.urlopen(api_url + HEALTH_PATH, timeout=timeout_seconds) as response:  # noqa: S310
            answer: dict[str, Any] = json.load(response)
            return answer
    except (urllib.error.URLError, OSError, ValueError):
        return None


def url_answers(url: str, timeout_seconds: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_seconds):  # noqa: S310 (loopback)
            return True
    except urllib.error.HTTPError:
        return True  # it answered
    except (urllib.error.URLError, OSError):
        return False
