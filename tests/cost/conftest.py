"""Fixtures of the cost tests: templates synthesized once per session, the price table.

A synth takes 5-30 s on these machines, so the real CDK stack is synthesized twice per session
(default configuration, and with scheduled scaling on) and shared; sensitivity tests edit copies
of the synthesized dict, which is exactly what the template reader reads.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deploy_airflow_on_ecs_fargate.cli.main import app
from deploy_airflow_on_ecs_fargate.config import CONFIG_ENV_VAR, ENV_PREFIX, CostConfig, Settings
from deploy_airflow_on_ecs_fargate.cost import stack_cost
from deploy_airflow_on_ecs_fargate.cost.price_table import PriceTable, RegionPrices, load_price_table
from deploy_airflow_on_ecs_fargate.cost.readme import default_settings, lean_settings
from deploy_airflow_on_ecs_fargate.cost.stack_cost import synthesized_template


@pytest.fixture(scope="session")
def _default_template() -> dict[str, Any]:
    return synthesized_template(default_settings())


@pytest.fixture(scope="session")
def _lean_template() -> dict[str, Any]:
    return synthesized_template(lean_settings())


@pytest.fixture
def default_template(_default_template: dict[str, Any]) -> dict[str, Any]:
    """The default configuration's synthesized template (a copy each test may edit)."""
    return copy.deepcopy(_default_template)


@pytest.fixture
def lean_template(_lean_template: dict[str, Any]) -> dict[str, Any]:
    """The template with scheduled scaling on (a copy)."""
    return copy.deepcopy(_lean_template)


@pytest.fixture
def table() -> PriceTable:
    return load_price_table()


@pytest.fixture
def us_east_1(table: PriceTable) -> RegionPrices:
    return table.region("us-east-1")


@pytest.fixture
def assumptions() -> CostConfig:
    return CostConfig()  # type: ignore[call-arg]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ECSFLOW_*/AWS_REGION from the developer's shell; an empty config file (all defaults)."""
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX) or key in ("AWS_REGION", "AWS_DEFAULT_REGION", CONFIG_ENV_VAR):
            monkeypatch.delenv(key)
    config = tmp_path / "ecsflow.yaml"
    config.write_text("{}\n")
    return config


@pytest.fixture
def synthesized(monkeypatch: pytest.MonkeyPatch, default_template: dict[str, Any]) -> list[Settings]:
    """Replace the synth by the session's default template; return the settings it was asked for."""
    asked: list[Settings] = []

    def fake(settings: Settings) -> dict[str, Any]:
        asked.append(settings)
        return default_template

    monkeypatch.setattr(stack_cost, "synthesized_template", fake)
    return asked


def run_cost(*args: str) -> Any:
    """`ecsflow cost ARGS` in-process; a traceback fails the test (only typer.Exit may end it)."""
    result = CliRunner().invoke(app, ["cost", *args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result
