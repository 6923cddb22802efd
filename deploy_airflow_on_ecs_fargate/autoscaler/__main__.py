"""``python -m deploy_airflow_on_ecs_fargate.autoscaler run|once``: the worker autoscaler's entry point.

Inputs (environment; see ``airflow_settings.autoscaler_environment``):
- ``ECSFLOW_AUTOSCALER_POOLS`` (pools: service, cluster, concurrency, min, max) and
  ``ECSFLOW_AUTOSCALER`` (the ``autoscaler`` config section as JSON); when unset, both come
  from the config file (``ecsflow.yaml``), which is handy on a laptop;
- ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN``: the metadata DB;
- local backend: ``ECSFLOW_LOCAL_LOG_DIR`` (worker logs), ``ECSFLOW_AUTOSCALER_STATE_FILE``;
- ECS backend: the AWS region and credentials of the task role (default boto3 chain).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from deploy_airflow_on_ecs_fargate.airflow_settings import (
    AUTOSCALER_SETTINGS_VAR,
    AWS_ENDPOINT_VAR,
    DATABASE_URL_VAR,
    autoscaler_environment,
)
from deploy_airflow_on_ecs_fargate.autoscaler.active_tasks import create_engine
from deploy_airflow_on_ecs_fargate.autoscaler.backend import Backend, PoolsError, PoolTarget, WorkerCount, parse_pools
from deploy_airflow_on_ecs_fargate.autoscaler.controller import Controller
from deploy_airflow_on_ecs_fargate.autoscaler.local_backend import LOG_DIR_VAR
from deploy_airflow_on_ecs_fargate.autoscaler.metrics import MetricsPublisher
from deploy_airflow_on_ecs_fargate.autoscaler.state import STATE_FILE_VAR, read_state
from deploy_airflow_on_ecs_fargate.config import AutoscalerConfig, ConfigError, load_config

log = logging.getLogger("deploy_airflow_on_ecs_fargate.autoscaler")


class UsageError(Exception):
    """Bad input: printed as one line on stderr, exit code 2."""


class DemandOnly:
    """``once --backend none``: no workers to look at; shows the demand as if the pool were empty."""

    name = "none"

    def observe(self, pool: str, busy_hosts: int) -> WorkerCount:
        return WorkerCount(current=0, busy=0)

    def apply(self, pool: str, desired: int) -> str:
        return "not applied (--backend none)"

    def close(self) -> None:
        return None


def load_inputs() -> tuple[dict[str, PoolTarget], AutoscalerConfig]:
    raw_pools = os.environ.get("ECSFLOW_AUTOSCALER_POOLS")
    raw_settings = os.environ.get(AUTOSCALER_SETTINGS_VAR)
    try:
        if raw_pools is None or raw_settings is None:
            env = autoscaler_environment(load_config())
            raw_pools = raw_pools if raw_pools is not None else env["ECSFLOW_AUTOSCALER_POOLS"]
            raw_settings = raw_settings if raw_settings is not None else env[AUTOSCALER_SETTINGS_VAR]
        pools = parse_pools(raw_pools)
        settings = AutoscalerConfig.model_validate_json(raw_settings)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except PoolsError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:  # pydantic ValidationError
        first = str(error).splitlines()
        raise UsageError(f"{AUTOSCALER_SETTINGS_VAR} is invalid: {' '.join(first[:3])}") from None
    return pools, settings


def make_backend(
    kind: str, pools: dict[str, PoolTarget], settings: AutoscalerConfig, state_file: Path | None = None
) -> Backend:
    if kind == "ecs":
        from deploy_airflow_on_ecs_fargate.autoscaler.ecs_backend import EcsBackend

        try:
            return EcsBackend(pools)
        except ValueError as error:
            raise UsageError(f"ECS backend: {error} (set them in ECSFLOW_AUTOSCALER_POOLS)") from None
    if kind == "local":
        from deploy_airflow_on_ecs_fargate.autoscaler.local_backend import LocalBackend, stop_leftover_workers

        log_dir = os.environ.get(LOG_DIR_VAR)
        if not log_dir:
            raise UsageError(f"the local backend needs {LOG_DIR_VAR} (where worker logs go)")
        if state_file is not None:
            # A previous controller that was killed left its workers behind: they must not run unobserved.
            _, previous = read_state(state_file)
            stopped = stop_leftover_workers([pid for pids in previous.values() for pid in pids], Path(log_dir))
            if stopped:
                log.info("stopping %d worker(s) left by a previous autoscaler: pid %s", len(stopped), stopped)
        return LocalBackend(Path(log_dir), pools, settings.local_worker_stop_timeout_seconds)
    return DemandOnly()


def build_controller(kind: str, publish: bool, state_file: Path | None) -> Controller:
    pools, settings = load_inputs()
    url = os.environ.get(DATABASE_URL_VAR)
    if not url:
        raise UsageError(f"{DATABASE_URL_VAR} is not set: the autoscaler reads the Airflow metadata DB")
    try:
        engine = create_engine(url)
    except Exception as error:  # a malformed URL
        raise UsageError(f"{DATABASE_URL_VAR} is not a usable database URL: {error}") from None
    backend = make_backend(kind, pools, settings, state_file)
    metrics = None
    if publish:
        import boto3

        cluster = next((p.cluster for p in pools.values() if p.cluster), "")
        metrics = MetricsPublisher(
            boto3.client("cloudwatch"),
            settings.metrics_namespace,
            settings.seed_metrics_namespace,
            cluster,
            settings.metrics_period_seconds,
        )
    return Controller(pools, settings, engine, backend, metrics=metrics, state_file=state_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy_airflow_on_ecs_fargate.autoscaler",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="poll and scale until SIGTERM")
    run.add_argument("--backend", choices=["ecs", "local"], required=True)
    once = commands.add_parser("once", help="one poll: print each pool's decision as a JSON line")
    once.add_argument(
        "--backend",
        choices=["ecs", "local", "none"],
        default="none",
        help="where current workers are read from (none: demand only)",
    )
    once.add_argument("--apply", action="store_true", help="also apply the decision (ecs backend)")
    once.add_argument("--publish", action="store_true", help="also put the CloudWatch metrics now")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state_env = os.environ.get(STATE_FILE_VAR)
    state_file = Path(state_env) if state_env else None
    try:
        if args.command == "run":
            publish = args.backend == "ecs" or bool(os.environ.get(AWS_ENDPOINT_VAR))
            controller = build_controller(args.backend, publish, state_file)
            controller.run()
            return 0
        if args.apply and args.backend == "local":
            raise UsageError("once --apply works with --backend ecs only (local workers would outlive the command)")
        controller = build_controller(args.backend, args.publish, None)
        statuses = controller.poll(apply=args.apply)
        if controller.metrics is not None:
            controller.metrics.flush()
        return 1 if any(status.error for status in statuses) else 0
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
