"""Reading a template: names from the outputs, capacity strategies, log destinations, unknown types."""

from __future__ import annotations

import pytest

from deploy_airflow_on_ecs_fargate.cost.template_reader import CapacityShare, TemplateError, read_template

from .template_fixture import small_template


def test_services_are_named_by_the_stack_outputs() -> None:
    resources = read_template(small_template())
    by_id = {service.logical_id: service for service in resources.services}
    assert by_id["ApiServerService12AB34CD"].name == "api-server"
    assert by_id["SchedulerService"].name == "scheduler"
    worker = by_id["WorkerDefaultService"]
    assert (worker.name, worker.pool, worker.concurrency, worker.is_worker) == ("worker-default", "default", 8, True)
    assert resources.worker() is worker  # AIRFLOW__OPERATORS__DEFAULT_QUEUE is "default"
    with pytest.raises(TemplateError, match="no worker pool named 'gpu'"):
        resources.worker("gpu")


def test_a_service_no_output_names_is_still_priced_under_its_logical_id() -> None:
    template = small_template()
    del template["Outputs"]["ApiServerServiceName"]
    names = [service.name for service in read_template(template).services]
    assert "ApiServerService" in names  # the CDK hash suffix is dropped


def test_capacity_provider_strategy_bases_then_weights() -> None:
    share = CapacityShare(spot_weight=3, on_demand_weight=1, spot_base=0, on_demand_base=1)
    # 1 task: the on-demand base. 5 tasks: 1 base on-demand, then 4 split 3:1 -> 3 Spot of 5.
    assert share.spot_fraction(1) == 0
    assert share.spot_fraction(5) == pytest.approx(3 / 5)
    assert share.spot_fraction(0) == pytest.approx(3 / 4)  # no tasks: the weights
    assert CapacityShare(spot_weight=1, on_demand_weight=0).label == "Spot"


def test_a_service_without_strategy_uses_the_cluster_default() -> None:
    template = small_template()
    template["Resources"]["SchedulerService"]["Properties"].pop("CapacityProviderStrategy")
    template["Resources"]["Associations"] = {
        "Type": "AWS::ECS::ClusterCapacityProviderAssociations",
        "Properties": {"DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]},
    }
    scheduler = next(s for s in read_template(template).services if s.name == "scheduler")
    assert scheduler.capacity.label == "Spot"


def test_log_destinations_follow_the_log_drivers() -> None:
    template = small_template()
    resources = template["Resources"]
    resources["Logs"]["Properties"]["RetentionInDays"] = 14
    api = resources["ApiServerTask"]["Properties"]["ContainerDefinitions"][0]
    api["LogConfiguration"] = {
        "LogDriver": "awsfirelens",
        "Options": {"Name": "kinesis_firehose", "delivery_stream": "x"},
    }
    read = {service.name: service.logs for service in read_template(template).services}
    assert (read["scheduler"].cloudwatch, read["scheduler"].retention_days, read["scheduler"].firehose) == (
        True,
        14,
        False,
    )
    assert (read["api-server"].cloudwatch, read["api-server"].firehose) == (False, True)


def test_a_log_group_without_retention_counts_as_never_expiring() -> None:
    template = small_template()
    del template["Resources"]["Logs"]["Properties"]["RetentionInDays"]
    assert all(service.logs.retention_days is None for service in read_template(template).services)


def test_unknown_resource_types_are_listed_not_dropped() -> None:
    template = small_template()
    template["Resources"]["Cache"] = {"Type": "AWS::ElastiCache::CacheCluster", "Properties": {}}
    template["Resources"]["Custom"] = {"Type": "Custom::Whatever", "Properties": {}}
    assert read_template(template).not_priced == {"AWS::ElastiCache::CacheCluster": 1}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda r: r["ApiServerTask"]["Properties"].update(Cpu={"Ref": "CpuParameter"}),
            "Cpu of task definition ApiServerTask",
        ),
        (
            lambda r: r["ApiServerTask"]["Properties"]["RuntimePlatform"].update(
                OperatingSystemFamily="WINDOWS_SERVER_2022_CORE"
            ),
            "only Linux",
        ),
        (
            lambda r: r["SchedulerService"]["Properties"].update(
                CapacityProviderStrategy=[{"CapacityProvider": "MyEc2Asg", "Weight": 1}]
            ),
            "not Fargate",
        ),
        (lambda r: r.pop("WorkerDefaultTask"), "does not reference a task definition"),
    ],
    ids=["token cpu", "windows", "ec2 capacity provider", "missing task definition"],
)
def test_what_cannot_be_priced_is_named(edit, message: str) -> None:
    template = small_template()
    edit(template["Resources"])
    with pytest.raises(TemplateError, match=message):
        read_template(template)


def test_ecr_lifecycle_and_managed_secrets() -> None:
    template = small_template()
    template["Resources"]["Database"]["Properties"]["ManageMasterUserPassword"] = True
    resources = read_template(template)
    assert resources.ecr_images_kept == 5
    assert resources.secrets == 3  # 2 in the template + the one RDS creates for its master password
