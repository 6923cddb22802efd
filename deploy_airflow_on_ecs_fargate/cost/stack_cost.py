"""Configuration -> synthesized template -> estimate: the path `ecsflow cost` and the README take.

The CDK app runs in-process (``infrastructure.synth.synthesize``), so the estimate prices exactly
the template `ecsflow deploy` would deploy. CDK is imported only when a template is needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from deploy_airflow_on_ecs_fargate.config import ENV_PREFIX, AwsConfig, Settings, TaskSize
from deploy_airflow_on_ecs_fargate.cost.estimate import Estimate, estimate
from deploy_airflow_on_ecs_fargate.cost.price_table import load_price_table
from deploy_airflow_on_ecs_fargate.cost.template_reader import StackResources, read_template


class CostError(Exception):
    """The estimate cannot be made; the message is one plain sentence for the user."""


def with_overrides(
    settings: Settings,
    region: str | None = None,
    pool: str | None = None,
    worker_cpu: int | None = None,
    worker_memory_mib: int | None = None,
) -> Settings:
    """``settings`` with the command line's region and worker size applied, validated again."""
    data = settings.model_dump(mode="python")
    if region is not None:
        try:
            AwsConfig(region=region)  # type: ignore[call-arg]
        except ValidationError:
            raise CostError(f"{region!r} is not an AWS region name such as us-east-1") from None
        data["aws"]["region"] = region
    names = [item["name"] for item in data["worker_pools"]]
    if pool is not None and pool not in names:
        raise CostError(f"no worker pool named {pool!r} in the configuration (pools: {', '.join(names)})")
    if worker_cpu is not None or worker_memory_mib is not None:
        target = data["worker_pools"][names.index(pool or names[0])]
        if worker_cpu is not None:
            target["cpu"] = worker_cpu
        if worker_memory_mib is not None:
            target["memory_mib"] = worker_memory_mib
        # The same check the config applies: only task sizes Fargate accepts.
        try:
            TaskSize(cpu=target["cpu"], memory_mib=target["memory_mib"])
        except ValidationError as error:
            message = str(error.errors()[0]["msg"]).removeprefix("Value error, ")
            raise CostError(f"worker size: {message}") from None
    # The dumped values already include the ECSFLOW_* overrides; hide them while validating, or
    # pydantic-settings would apply them again on top of the command line's values.
    try:
        with defaults_only():
            return Settings.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CostError(f"{where}: {first['msg']}") from None


def synthesized_template(settings: Settings) -> dict[str, Any]:
    """The CloudFormation template of ``settings``, synthesized in-process."""
    try:
        from infrastructure.synth import synthesize
    except ImportError as error:
        raise CostError(f"the CDK app cannot be loaded ({error}); run ./ecsflow from the repository") from None
    # cdk-nag's checks guard deployments (`ecsflow deploy`); a price estimate does not need them.
    template: dict[str, Any] = synthesize(settings, checks=False)
    return template


def stack_resources(settings: Settings, template: dict[str, Any] | None = None) -> StackResources:
    """What costs money in the stack of ``settings`` (synthesized unless ``template`` is given)."""
    load_price_table().region(settings.aws.region)  # fail on a region without prices before a synth
    return read_template(synthesized_template(settings) if template is None else template)


def estimate_for(
    settings: Settings,
    task_hours_per_day: float | None = None,
    pool: str | None = None,
    resources: StackResources | None = None,
) -> Estimate:
    """Price the stack of ``settings`` in ``settings.aws.region``, idle and at the workload."""
    if resources is None:
        resources = stack_resources(settings)
    hours = settings.cost.task_hours_per_day if task_hours_per_day is None else task_hours_per_day
    return estimate(resources, load_price_table(), settings.aws.region, settings.cost, hours, pool)


@contextmanager
def defaults_only() -> Iterator[None]:
    """Hide ECSFLOW_* variables, so the built-in defaults are what gets configured (README figures)."""
    hidden = {key: os.environ.pop(key) for key in list(os.environ) if key.startswith(ENV_PREFIX)}
    try:
        yield
    finally:
        os.environ.update(hidden)
