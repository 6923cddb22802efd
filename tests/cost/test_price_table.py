"""The dated price table: it validates, and a broken one is refused with the offending path."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from deploy_airflow_on_ecs_fargate.cost.price_table import (
    PRICES_FILE,
    PriceTable,
    PriceTableError,
    RegionPrices,
    parse_price_table,
)


def _raw() -> dict:
    return yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8"))


def test_the_shipped_table_validates_and_every_price_is_sourced_and_dated(table: PriceTable) -> None:
    regions = [table.region(name) for name in table.regions]
    assert {"us-east-1", "us-east-2", "us-west-2"} <= set(table.regions)
    for region in regions:
        prices = region.prices()
        assert len(prices) >= 30
        for path, price in prices:
            assert price.usd >= 0, path
            # The source is the official AWS pricing page; evidence pages may be anyone's.
            assert str(price.source).startswith("https://aws.amazon.com/"), path
            assert date(2026, 1, 1) <= price.checked <= date.today(), path
            assert price.unit, path
            if price.verified:
                assert price.evidence, path


def test_the_figures_the_design_relies_on(us_east_1: RegionPrices) -> None:
    fargate = us_east_1.fargate
    assert (fargate.linux_x86_vcpu_hour.usd, fargate.linux_x86_gb_hour.usd) == (0.04048, 0.004445)
    assert (fargate.linux_arm_vcpu_hour.usd, fargate.linux_arm_gb_hour.usd) == (0.03238, 0.00356)
    # ARM is ~20% cheaper than x86: 1 - 0.03238 / 0.04048 = 0.2001.
    assert 1 - fargate.linux_arm_vcpu_hour.usd / fargate.linux_x86_vcpu_hour.usd == pytest.approx(0.2, abs=0.001)
    assert 0 < fargate.spot_discount.usd <= 0.70
    assert us_east_1.vpc.public_ipv4_hour.usd == 0.005
    assert us_east_1.mwaa.classes["mw1.small"].environment_hour.usd == 0.49


def test_an_unverified_price_is_marked_so(us_east_1: RegionPrices) -> None:
    # The MWAA medium price came from the brief and two pages disagree: it must say so.
    medium = us_east_1.mwaa.classes["mw1.medium"].environment_hour
    assert medium.verified is False
    assert medium.note


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda raw: raw["regions"]["us-east-1"]["fargate"]["linux_arm_vcpu_hour"].update(usd=-0.01),
            "greater than or equal to 0",
        ),
        (lambda raw: raw["regions"]["us-east-1"]["fargate"].pop("linux_arm_gb_hour"), "linux_arm_gb_hour"),
        (lambda raw: raw["regions"]["us-east-1"]["vpc"]["nat_gateway_hour"].pop("source"), "source"),
        (lambda raw: raw["regions"]["us-east-1"]["vpc"]["nat_gateway_hour"].pop("checked"), "checked"),
        (lambda raw: raw["regions"]["us-east-1"]["elb"]["alb_hour"].update(evidence=[]), "evidence"),
        (lambda raw: raw["regions"]["us-east-1"]["fargate"]["spot_discount"].update(usd=1.5), "fraction"),
        (lambda raw: raw["regions"]["us-west-2"].update(same_as="eu-north-1"), "no prices of its own"),
    ],
    ids=["negative", "missing price", "no source", "no date", "verified without evidence", "discount > 1", "bad alias"],
)
def test_a_broken_table_is_refused(edit, message: str) -> None:
    raw = _raw()
    edit(raw)
    with pytest.raises(PriceTableError, match=message):
        parse_price_table(yaml.safe_dump(raw))


def test_a_region_without_prices_is_one_clear_sentence(table: PriceTable) -> None:
    with pytest.raises(PriceTableError) as error:
        table.region("eu-west-1")
    assert str(error.value).startswith("no prices for region eu-west-1 in the price table (known: us-east-1")
    assert "\n" not in str(error.value)


def test_aliased_regions_share_the_prices_they_name(table: PriceTable) -> None:
    assert table.region("us-west-2") is table.region("us-east-1")
