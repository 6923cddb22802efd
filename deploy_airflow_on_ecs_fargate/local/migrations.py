"""Skip `airflow db migrate` when nothing changed since the last successful one (saves ~5 s per start).

The marker file remembers the database and the installed Airflow and FAB provider versions; a
new version (or another database) runs the migration again.
"""

from __future__ import annotations

import json
from importlib.metadata import version

from deploy_airflow_on_ecs_fargate.local.layout import Layout


def _fingerprint(database_url: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    return {
        "database": make_url(database_url).render_as_string(hide_password=True),
        "apache-airflow": version("apache-airflow"),
        "apache-airflow-providers-fab": version("apache-airflow-providers-fab"),
    }


def needed(layout: Layout, database_url: str) -> bool:
    try:
        recorded = json.loads(layout.migrated_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return bool(recorded != _fingerprint(database_url))


def record(layout: Layout, database_url: str) -> None:
    layout.migrated_file.write_text(json.dumps(_fingerprint(database_url)), encoding="utf-8")
