"""The dated price table (prices.yaml) as a validated model.

Every price must name its source and the date it was checked; a missing or negative price, an
unknown key or a region pointing at an unknown region makes loading fail with the offending
path, so a broken table never produces a quiet wrong estimate.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, model_validator

PRICES_FILE = Path(__file__).with_name("prices.yaml")


class PriceTableError(Exception):
    """The price table cannot be used; the message is one plain sentence."""


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(Entry):
    usd: Annotated[float, Field(ge=0)]
    unit: Annotated[str, Field(min_length=1)]
    source: HttpUrl
    checked: date
    verified: bool
    evidence: list[HttpUrl] = []
    note: str | None = None

    @model_validator(mode="after")
    def _verified_has_evidence(self) -> Price:
        if self.verified and not self.evidence:
            raise ValueError("a verified price must list the evidence pages it was checked against")
        return self


class FargatePrices(Entry):
    linux_x86_vcpu_hour: Price
    linux_x86_gb_hour: Price
    linux_arm_vcpu_hour: Price
    linux_arm_gb_hour: Price
    ephemeral_storage_gb_hour: Price
    spot_discount: Price

    @model_validator(mode="after")
    def _discount_is_a_fraction(self) -> FargatePrices:
        if not 0 <= self.spot_discount.usd < 1:
            raise ValueError("spot_discount is a fraction of the on-demand price, between 0 and 1")
        return self


class VpcPrices(Entry):
    public_ipv4_hour: Price
    nat_gateway_hour: Price
    nat_gateway_gb: Price
    interface_endpoint_az_hour: Price


class ElbPrices(Entry):
    alb_hour: Price
    alb_lcu_hour: Price


class RdsPrices(Entry):
    postgres_instance_hour: Annotated[dict[str, Price], Field(min_length=1)]
    storage_gb_month: Annotated[dict[str, Price], Field(min_length=1)]


class SecretsManagerPrices(Entry):
    secret_month: Price


class CloudWatchPrices(Entry):
    custom_metric_month: Price
    put_metric_data_thousand_requests: Price
    alarm_month: Price
    dashboard_month: Price
    logs_ingestion_gb: Price
    logs_storage_gb_month: Price


class FirehosePrices(Entry):
    ingestion_gb: Price


class S3Prices(Entry):
    standard_gb_month: Price


class SqsPrices(Entry):
    million_requests: Price


class EcrPrices(Entry):
    storage_gb_month: Price


class KmsPrices(Entry):
    key_month: Price


class Route53Prices(Entry):
    hosted_zone_month: Price


class MwaaClass(Entry):
    tasks_per_worker: Annotated[int, Field(ge=1)]
    environment_hour: Price
    additional_worker_hour: Price
    additional_scheduler_hour: Price


class MwaaPrices(Entry):
    metadata_gb_month: Price
    classes: Annotated[dict[str, MwaaClass], Field(min_length=1)]


class RegionPrices(Entry):
    name: str
    fargate: FargatePrices
    vpc: VpcPrices
    elb: ElbPrices
    rds: RdsPrices
    secrets_manager: SecretsManagerPrices
    cloudwatch: CloudWatchPrices
    firehose: FirehosePrices
    s3: S3Prices
    sqs: SqsPrices
    ecr: EcrPrices
    kms: KmsPrices
    route53: Route53Prices
    mwaa: MwaaPrices

    def prices(self) -> list[tuple[str, Price]]:
        """Every price with its dotted path, e.g. ("fargate.spot_discount", Price)."""
        found: list[tuple[str, Price]] = []

        def walk(path: str, value: object) -> None:
            if isinstance(value, Price):
                found.append((path, value))
            elif isinstance(value, BaseModel):
                for key in type(value).model_fields:
                    walk(f"{path}.{key}" if path else key, getattr(value, key))
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(f"{path}.{key}", item)

        walk("", self)
        return found


class RegionAlias(Entry):
    """A region whose list prices equal another region's (the note says why we believe so)."""

    name: str
    same_as: str
    note: Annotated[str, Field(min_length=1)]


class PriceTable(Entry):
    hours_per_month: Annotated[float, Field(gt=0)]
    regions: Annotated[dict[str, RegionPrices | RegionAlias], Field(min_length=1)]

    @model_validator(mode="after")
    def _aliases_resolve(self) -> PriceTable:
        for region, entry in self.regions.items():
            if isinstance(entry, RegionAlias) and not isinstance(self.regions.get(entry.same_as), RegionPrices):
                raise ValueError(f"region {region} is same_as {entry.same_as!r}, which has no prices of its own")
        return self

    def region(self, region: str) -> RegionPrices:
        """The prices of ``region``; PriceTableError naming the known regions when there are none."""
        entry = self.regions.get(region)
        if entry is None:
            known = ", ".join(sorted(self.regions))
            raise PriceTableError(
                f"no prices for region {region} in the price table (known: {known}); "
                f"add them, with their sources, to {PRICES_FILE.relative_to(PRICES_FILE.parents[2])}"
            )
        if isinstance(entry, RegionAlias):
            resolved = self.regions[entry.same_as]
            assert isinstance(resolved, RegionPrices)  # checked by _aliases_resolve
            return resolved
        return entry

    def last_checked(self) -> date:
        return max(
            price.checked
            for entry in self.regions.values()
            if isinstance(entry, RegionPrices)
            for _, price in entry.prices()
        )


def parse_price_table(text: str, source: str = PRICES_FILE.name) -> PriceTable:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PriceTableError(f"{source} is not valid YAML: {error}") from None
    try:
        return PriceTable.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        more = f" (and {error.error_count() - 1} more problems)" if error.error_count() > 1 else ""
        raise PriceTableError(f"{source}: {where}: {first['msg']}{more}") from None


@cache
def load_price_table(path: Path = PRICES_FILE) -> PriceTable:
    return parse_price_table(path.read_text(encoding="utf-8"), path.name)
