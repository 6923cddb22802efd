"""Reads a Variable and a Connection that exist only in AWS Secrets Manager.

The secrets backend (``[secrets] backend`` = SecretsManagerBackend) looks up
``<secrets_prefix>/variables/<key>`` and ``<secrets_prefix>/connections/<conn_id>`` first; the local
environment seeds both in its Secrets Manager emulator. The task returns what it read, so the
values show up as its XCom.
"""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import Connection, Variable, dag, task

log = logging.getLogger(__name__)


@dag(
    dag_id="example_secrets",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    tags=["example"],
)
def example_secrets() -> None:
    @task
    def read_secrets() -> dict[str, str]:
        greeting = Variable.get("example_greeting")
        connection = Connection.get("example_http")
        log.info("Variable example_greeting = %r", greeting)
        # The password is masked in the task log by Airflow's secrets masker.
        log.info("Connection example_http: %s://%s@%s", connection.conn_type, connection.login, connection.host)
        return {"greeting": greeting, "host": connection.host or "", "login": connection.login or ""}

    read_secrets()


example_secrets()
