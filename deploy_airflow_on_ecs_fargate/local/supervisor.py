"""The supervisor: starts the local environment, keeps it running, stops it.

``ecsflow local up`` runs it as a background process (``python -m
deploy_airflow_on_ecs_fargate.local.supervisor``) and waits until it reports ``ready`` in
``<data_dir>/state.json``; ``--foreground`` runs it in the terminal. Order:

1. PostgreSQL (or a check of ``local.database_url``) and moto, in parallel; then the AWS
   resources in moto (queues, bucket, seeded secrets);
2. ``airflow db migrate``;
3. api-server, scheduler, dag-processor, triggerer and the workers (or the autoscaler) in
   parallel, while ``airflow users create`` adds the FAB admin;
4. ready once the api-server's health endpoint reports the scheduler, dag-processor and
   triggerer healthy.

Then it watches: a component that exits is restarted (at most ``local.max_restarts`` times,
then reported as crashed). SIGTERM (what ``down`` sends) stops everything in reverse order:
SIGTERM to each process group, SIGKILL after ``local.stop_timeout_seconds``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType

from deploy_airflow_on_ecs_fargate.config import ConfigError, Settings, load_config
from deploy_airflow_on_ecs_fargate.local import aws_emulator, health, migrations, processes
from deploy_airflow_on_ecs_fargate.local.components import (
    API_SERVER,
    HEALTH_KEYS,
    MOTO,
    POSTGRES,
    Component,
    airflow_command,
    airflow_components,
    consumes_queues,
)
from deploy_airflow_on_ecs_fargate.local.environment import (
    INSTANCE_VAR,
    api_url,
    component_environment,
    moto_endpoint,
    process_environment,
)
from deploy_airflow_on_ecs_fargate.local.errors import LocalEnvironmentError
from deploy_airflow_on_ecs_fargate.local.layout import Layout
from deploy_airflow_on_ecs_fargate.local.postgres import (
    EmbeddedPostgres,
    admin_exists,
    check_reachable,
    sqlalchemy_url,
)
from deploy_airflow_on_ecs_fargate.local.secrets import load_or_create
from deploy_airflow_on_ecs_fargate.local.state import ComponentState, EnvironmentState

SUPERVISOR = "supervisor"
log = logging.getLogger("ecsflow.local")


def embedded_postgres(settings: Settings, layout: Layout) -> EmbeddedPostgres:
    return EmbeddedPostgres(
        layout.postgres_dir, settings.local.host, settings.local.postgres_port, layout.log_file(POSTGRES)
    )


class StopRequested(Exception):
    """SIGTERM or SIGINT arrived."""


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.layout = Layout.of(settings)
        self.state = EnvironmentState(
            supervisor_pid=os.getpid(),
            api_url=api_url(settings),
            moto_endpoint=moto_endpoint(settings),
            external_database=settings.local.database_url is not None,
        )
        self.postgres = None if settings.local.database_url else embedded_postgres(settings, self.layout)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.components: dict[str, Component] = {}
        self.env: dict[str, str] = {}
        self.stop_requested = False

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> int:
        """Start, watch until SIGTERM/SIGINT, stop. Returns the process exit code."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self.layout.create()
        processes.write_pid(self.layout.pid_file(SUPERVISOR), os.getpid())
        exit_code = 0
        try:
            started = time.monotonic()
            self._start()
            self._report("ready", f"all components healthy in {time.monotonic() - started:.1f} s")
            self._watch()
        except StopRequested:
            pass
        except LocalEnvironmentError as error:
            self._report("failed", str(error))
            exit_code = 1
        except Exception as error:
            log.exception("the supervisor failed")
            self._report("failed", f"{type(error).__name__}: {error} (see {self.layout.log_file(SUPERVISOR)})")
            exit_code = 1
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            failed = self.state.phase == "failed"
            if not failed:
                self._report("stopping", "stopping")
            self.stop_everything()
            if not failed:
                self._report("stopped", "stopped")
            self.layout.pid_file(SUPERVISOR).unlink(missing_ok=True)
        return exit_code

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        raise StopRequested

    def _report(self, phase: str, message: str) -> None:
        self.state.phase = phase  # type: ignore[assignment]
        self.state.message = message
        self.state.save(self.layout.state_file)
        log.info("%s: %s", phase, message)

    # -- start -------------------------------------------------------------------------------

    def _start(self) -> None:
        settings = self.settings
        secrets = load_or_create(self.layout.secrets_file)
        self._report("starting", "starting PostgreSQL and moto")
        # moto boots (~2 s) while PostgreSQL starts and the schema is migrated.
        self._start_process(Component(MOTO, aws_emulator.moto_command(settings.local.host, settings.local.moto_port)))
        if self.postgres is not None:
            self.postgres.start()
            self.state.components[POSTGRES] = ComponentState(
                pid=self.postgres.running_pid(), log=str(self.layout.log_file(POSTGRES))
            )
            database_url = self.postgres.url()
        else:
            assert settings.local.database_url is not None
            check_reachable(settings.local.database_url)
            database_url = sqlalchemy_url(settings.local.database_url)
        expected = aws_emulator.expected_resources(settings, self.state.moto_endpoint)
        self.env = component_environment(settings, self.layout, secrets, database_url, expected)

        migrate = migrations.needed(self.layout, database_url)
        if migrate:
            self._report("starting", "airflow db migrate")
            self._run_once("db-migrate", airflow_command("db", "migrate"))
            migrations.record(self.layout, database_url)

        components = airflow_components(settings, self.layout)
        # Workers (or the autoscaler that starts them) consume the SQS queues: they start once moto
        # has them. The other components only need the database, so they start right away.
        consumers = [component for component in components if consumes_queues(component)]
        core = [component for component in components if component not in consumers]
        self._report("starting", "starting the Airflow components")
        if admin_exists(database_url, settings.airflow.admin_username):
            if not migrate:
                # Same database and versions as a start that already synced FAB's roles and
                # permissions: the api-server skips that sync (~4 s of its start).
                # https://airflow.apache.org/docs/apache-airflow-providers-fab/stable/configurations-ref.html#update-fab-perms
                self.env["AIRFLOW__FAB__UPDATE_FAB_PERMS"] = "False"
            for component in core:
                self._start_process(component)
            self._provision_aws(expected)
        else:
            # First start: `users create` and the api-server both fill FAB's permission tables of a
            # new database and collide (unique violation), so the api-server waits for the admin.
            with ThreadPoolExecutor(max_workers=1) as pool:
                admin: Future[None] = pool.submit(self._create_admin)
                for component in core:
                    if component.name != API_SERVER:
                        self._start_process(component)
                self._provision_aws(expected)
                while not admin.done():
                    self._check_alive()
                    time.sleep(0.1)
                admin.result()
            self._start_process(next(component for component in core if component.name == API_SERVER))
        for component in consumers:
            self._start_process(component)
        self._wait_healthy()

    def _provision_aws(self, expected: aws_emulator.EmulatedResources) -> None:
        aws_emulator.wait_until_serving(self.state.moto_endpoint)
        self._check_alive()
        resources = aws_emulator.provision(self.settings, self.state.moto_endpoint)
        if resources != expected:
            raise LocalEnvironmentError(f"moto created {resources}, expected {expected}")
        self.state.log_bucket = resources.log_bucket
        self.state.queue_urls = resources.queue_urls
        self.state.save(self.layout.state_file)

    def _create_admin(self) -> None:
        local, airflow = self.settings.local, self.settings.airflow
        self._run_once(
            "create-admin",
            airflow_command(
                "users",
                "create",
                "--username",
                airflow.admin_username,
                "--password",
                local.admin_password,
                "--email",
                airflow.admin_email,
                "--firstname",
                "Local",
                "--lastname",
                "Admin",
                "--role",
                "Admin",
            ),
        )

    def _run_once(self, name: str, command: list[str]) -> None:
        """Run a one-off command (like ECS's standalone task) to completion; its output goes to its log."""
        log_file = self.layout.log_file(name)
        process = processes.start(command, process_environment(self.env), log_file, self.layout.pid_file(name))
        try:
            while process.poll() is None:
                if self.stop_requested:
                    raise StopRequested
                time.sleep(0.1)
        finally:
            if process.poll() is None:
                processes.stop_group(process.pid, self.settings.local.stop_timeout_seconds)
            self.layout.pid_file(name).unlink(missing_ok=True)
        if process.returncode != 0:
            raise LocalEnvironmentError(f"{name} failed with exit code {process.returncode} (log: {log_file})")

    def _start_process(self, component: Component) -> None:
        self.components[component.name] = component
        env = process_environment({**self.env, **component.env}) if self.env else self._bare_env()
        process = processes.start(
            component.command,
            env,
            self.layout.log_file(component.name),
            self.layout.pid_file(component.name),
        )
        self.processes[component.name] = process
        previous = self.state.components.get(component.name)
        self.state.components[component.name] = ComponentState(
            pid=process.pid,
            restarts=previous.restarts if previous else 0,
            log=str(self.layout.log_file(component.name)),
        )
        self.state.save(self.layout.state_file)

    def _bare_env(self) -> dict[str, str]:
        return process_environment({INSTANCE_VAR: str(self.layout.data_dir), "PYTHONUNBUFFERED": "1"})

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise LocalEnvironmentError(
                    f"{name} exited with code {process.returncode} while starting (log: {self.layout.log_file(name)})"
                )

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.settings.local.start_timeout_seconds
        waiting_for: list[str] = []
        while time.monotonic() < deadline:
            self._check_alive()
            answer = health.airflow_health(self.state.api_url)
            waiting_for = [API_SERVER] if answer is None else []
            for name, key in HEALTH_KEYS.items():
                if answer is not None and (answer.get(key) or {}).get("status") != health.HEALTHY:
                    waiting_for.append(name)
            if not waiting_for:
                return
            message = "waiting for " + ", ".join(waiting_for)
            if message != self.state.message:
                self._report("starting", message)
            time.sleep(0.25)
        raise LocalEnvironmentError(
            f"not healthy after {self.settings.local.start_timeout_seconds} s: {', '.join(waiting_for)} "
            f"(logs: {self.layout.logs_dir})"
        )

    # -- watch -------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self.stop_requested:
            for name, process in list(self.processes.items()):
                if process.poll() is None:
                    continue
                record = self.state.components[name]
                if record.crashed:
                    continue
                log.warning("%s exited with code %s", name, process.returncode)
                if record.restarts >= self.settings.local.max_restarts:
                    record.crashed = True
                    self._report("ready", f"{name} crashed {record.restarts + 1} times; see {record.log}")
                    continue
                record.restarts += 1
                self._start_process(self.components[name])
                if name == MOTO:
                    # moto keeps its state in memory: recreate the queues, bucket and secrets.
                    aws_emulator.wait_until_serving(self.state.moto_endpoint)
                    aws_emulator.provision(self.settings, self.state.moto_endpoint)
            if self.postgres is not None and self.postgres.running_pid() is None:
                log.warning("PostgreSQL is not running; starting it again")
                self.postgres.start()
                self.state.components[POSTGRES].pid = self.postgres.running_pid()
                self.state.components[POSTGRES].restarts += 1
                self.state.save(self.layout.state_file)
            time.sleep(1)

    # -- stop --------------------------------------------------------------------------------

    def stop_everything(self) -> None:
        """Stop the components (workers first, moto last), then PostgreSQL, then any leftover."""
        stop_environment(self.settings, self.layout, list(reversed(list(self.processes))))


def stop_environment(settings: Settings, layout: Layout, order: list[str] | None = None) -> list[str]:
    """Stop every process of this local environment, by PID; returns what was stopped.

    Used by the supervisor on shutdown and by ``down`` as a sweep after it (or when the supervisor
    itself died): PID files first, then any process still carrying this environment's marker.
    """
    timeout = settings.local.stop_timeout_seconds
    names = [name for name in order or [] if name != MOTO]
    names += sorted(
        path.stem
        for path in layout.run_dir.glob("*.pid")
        if path.stem not in names and path.stem not in {SUPERVISOR, MOTO}
    )
    stopped = []
    # Airflow components all at once (workers get SIGTERM, i.e. Celery's warm shutdown, like the rest);
    # moto after them, since they may still talk to it while shutting down.
    for group in (names, [MOTO]):
        running = {}
        for name in group:
            pid = processes.read_pid(layout.pid_file(name))
            if pid is not None and processes.alive(pid):
                running[name] = pid
        started = time.monotonic()
        processes.stop_groups(list(running.values()), timeout)
        if running:
            log.info("stopped %s in %.1f s", ", ".join(running), time.monotonic() - started)
        stopped += list(running)
        for name in group:
            layout.pid_file(name).unlink(missing_ok=True)
    postgres = None if settings.local.database_url else embedded_postgres(settings, layout)
    if postgres is not None and postgres.running_pid() is not None:
        postgres.stop()
        stopped.append(POSTGRES)
    leftovers = list(processes.marked_processes(INSTANCE_VAR, str(layout.data_dir)))
    if leftovers:
        log.warning("stopping %d leftover process(es): %s", len(leftovers), [p.pid for p in leftovers])
        processes.kill_all(leftovers, timeout)
        stopped.append(f"{len(leftovers)} leftover process(es)")
    return stopped


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)


def main() -> int:
    configure_logging()
    try:
        settings = load_config()
    except ConfigError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    return Supervisor(settings).run()


if __name__ == "__main__":
    raise SystemExit(main())
