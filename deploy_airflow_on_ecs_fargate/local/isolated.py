"""A throwaway local environment beside the user's: its own data directory and free loopback ports.

Used by the end-to-end tests and the benchmarks, so they never touch ``.local`` or the configured
ports and several can run at once. The user's own ``ECSFLOW_*`` and ``AIRFLOW__*`` overrides are
dropped so the run depends only on the committed configuration plus ``extra``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def isolated_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """Process environment for `ecsflow local ...` with its own data dir and ports; ``extra`` wins."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ECSFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "ECSFLOW_LOCAL__DATA_DIR": str(data_dir),
            "ECSFLOW_LOCAL__API_PORT": str(free_port()),
            "ECSFLOW_LOCAL__MOTO_PORT": str(free_port()),
            "ECSFLOW_LOCAL__POSTGRES_PORT": str(free_port()),
            "ECSFLOW_LOCAL__STATSD_PORT": str(free_port()),
        }
    )
    env.update(extra)
    return env
