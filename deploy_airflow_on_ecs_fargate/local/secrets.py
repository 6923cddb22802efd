"""Secrets of the local environment, generated once into the data directory (mode 0600).

On ECS these values live in AWS Secrets Manager and are injected as environment variables
(``airflow_settings.SECRET_VARIABLES``); locally they are created on the first ``up`` and reused,
so encrypted connections and sessions survive restarts.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.fernet import Fernet

# Airflow signs task and API tokens with this secret; it should be at least 64 bytes.
# https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#jwt-secret
JWT_SECRET_BYTES = 64


@dataclass(frozen=True)
class LocalSecrets:
    fernet_key: str
    jwt_secret: str
    api_secret_key: str

    @classmethod
    def generate(cls) -> LocalSecrets:
        return cls(
            fernet_key=Fernet.generate_key().decode("ascii"),
            jwt_secret=secrets.token_urlsafe(JWT_SECRET_BYTES),
            api_secret_key=secrets.token_urlsafe(32),
        )


def load_or_create(path: Path) -> LocalSecrets:
    """Read the secrets file, or create it readable by the owner only."""
    if path.exists():
        return LocalSecrets(**json.loads(path.read_text(encoding="utf-8")))
    created = LocalSecrets.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two concurrent starts cannot both write different secrets.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(created), handle)
    return created
