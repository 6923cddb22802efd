"""Fixtures of the cost tests: templates synthesized once per session, the price table.

A synth takes 5-30 s on these machines, so the real CDK stack is synthesized twice per session
(default configuration, and with scheduled scaling on) and shared; sensitivity tests edit copies
of the synthesized dict, which is exactly what the template reader reads.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deploy_airflow_on_ecs_fargate.config import CostConfig
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
