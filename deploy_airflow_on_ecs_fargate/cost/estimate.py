"""Monthly cost per component of a synthesized stack: idle, and under a workload.

Idle means no Airflow task runs: the always-on services run their (scheduled) counts, worker
pools sit at their minimum, and every fixed charge applies. The workload column adds the worker
hours, logs, queue requests and public addresses that ``task_hours_per_day`` of Airflow tasks
cost on the chosen worker pool. Every figure is price x quantity; the quantities come from the
template (``template_reader``) and, where no template can know them (traffic, log volume), from
the ``cost`` section of the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from deploy_airflow_on_ecs_fargate.config import CostConfig
from deploy_airflow_on_ecs_fargate.cost.mwaa import HOURS_PER_DAY, MwaaEstimate, mwaa_estimates
from deploy_airflow_on_ecs_fargate.cost.price_table import Price, PriceTable, PriceTableError, RegionPrices
from deploy_airflow_on_ecs_fargate.cost.schedule import average_capacity
from deploy_airflow_on_ecs_fargate.cost.template_reader import Service, StackResources, TaskSize

# Log volume relative to INFO. DEBUG multiplies Airflow's output many times over (SQL, HTTP and
# scheduler loop details), which is why DEBUG in production shows up on the CloudWatch bill.
LOG_LEVEL_FACTOR = {"DEBUG": 10.0, "INFO": 1.0, "WARNING": 0.3, "ERROR": 0.2, "CRITICAL": 0.2}
# The worker autoscaler publishes DesiredWorkers, CurrentWorkers, BusyWorkers, QueuedTasks and
# RunningTasks per pool, and the seed's two cluster metrics (autoscaler/metrics.py; a test keeps
# these counts in step with it).
AUTOSCALER_METRICS_PER_POOL = 5
AUTOSCALER_SEED_METRICS = 2
# The CloudWatch agent sidecar sends one PutMetricData a minute (metrics_aggregation_interval 60 s).
AGENT_REQUESTS_PER_TASK_HOUR = 60
# A Celery worker long-polls its SQS queue (kombu's wait_time_seconds=10): about 360 receive
# requests an hour while it runs. https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/sqs.html
SQS_REQUESTS_PER_WORKER_HOUR = 360
# What to assume when nothing expires: CloudWatch log groups without retention, S3 objects
# without a lifecycle rule, ECR repositories without one. A year of accumulation, stated in notes.
UNBOUNDED_RETENTION_DAYS = 365
UNBOUNDED_ECR_IMAGES = 10
DAYS_PER_MONTH_FOR_RETENTION = 30.4


@dataclass(frozen=True)
class Line:
    component: str
    detail: str
    idle: float  # USD per month
    workload: float  # USD per month with the workload (idle included)


@dataclass(frozen=True)
class Estimate:
    region: str
    prices_checked: date
    hours_per_month: float
    task_hours_per_day: float
    worker_pool: str
    worker_hours_per_day: float
    lines: tuple[Line, ...]
    mwaa_idle: tuple[MwaaEstimate, ...]
    mwaa: tuple[MwaaEstimate, ...]
    assumptions: CostConfig
    not_priced: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def idle_total(self) -> float:
        return sum(line.idle for line in self.lines)

    @property
    def workload_total(self) -> float:
        return sum(line.workload for line in self.lines)

    def line(self, component: str) -> Line:
        for line in self.lines:
            if line.component == component:
                return line
        raise KeyError(component)


def fargate_hourly(task: TaskSize, prices: RegionPrices, spot_fraction: float) -> float:
    """USD per hour of one task: vCPU + memory (less the Spot discount on the Spot share) + extra storage."""
    fargate = prices.fargate
    if task.architecture == "ARM64":
        vcpu_price, gb_price = fargate.linux_arm_vcpu_hour.usd, fargate.linux_arm_gb_hour.usd
    else:
        vcpu_price, gb_price = fargate.linux_x86_vcpu_hour.usd, fargate.linux_x86_gb_hour.usd
    compute = task.vcpu * vcpu_price + task.memory_gb * gb_price
    # Every task gets 20 GiB of ephemeral storage free; more is billed per GB-hour.
    storage = max(0, task.ephemeral_storage_gib - 20) * fargate.ephemeral_storage_gb_hour.usd
    return compute * (1 - fargate.spot_discount.usd * spot_fraction) + storage


def _describe_task(service: Service, count: float) -> str:
    task = service.task
    size = f"{task.architecture} {task.vcpu:g} vCPU / {task.memory_gb:g} GB"
    return f"{size} x {count:g}, {service.capacity.label}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _count(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _table_price(table: dict[str, Price], key: str, what: str, region: str) -> float:
    if key not in table:
        known = ", ".join(sorted(table))
        raise PriceTableError(f"no {what} price for {key} in {region} in the price table (known: {known})")
    return table[key].usd


@dataclass
class _Pair:
    """A monthly quantity idle and under the workload."""

    idle: float = 0.0
    workload: float = 0.0

    def add(self, idle: float, workload: float) -> None:
        self.idle += idle
        self.workload += workload


@dataclass
class _Usage:
    """What the running tasks add up to in a month; later lines (addresses, logs, queues) price it."""

    public_task_hours: _Pair = field(default_factory=_Pair)
    worker_hours: _Pair = field(default_factory=_Pair)
    agent_task_hours: _Pair = field(default_factory=_Pair)
    cloudwatch_gb: _Pair = field(default_factory=_Pair)
    cloudwatch_stored_gb: _Pair = field(default_factory=_Pair)  # GB-months kept at steady state
    firehose_gb: _Pair = field(default_factory=_Pair)
    retentions: set[int | None] = field(default_factory=set)
    control_plane_tasks: list[float] = field(default_factory=list)

    @property
    def control_plane_share(self) -> float:
        """Share of the hours the control plane runs (at least one of its services)."""
        return min(1.0, max(self.control_plane_tasks, default=1.0))


class _Bill:
    """Builds the lines of one estimate, one method per group of components."""

    def __init__(
        self,
        resources: StackResources,
        prices: RegionPrices,
        region: str,
        hours: float,
        assumptions: CostConfig,
        task_hours_per_day: float,
        worker: Service,
    ) -> None:
        self.resources = resources
        self.prices = prices
        self.region = region
        self.hours = hours
        self.days = hours / HOURS_PER_DAY
        self.assumptions = assumptions
        self.task_hours_per_day = task_hours_per_day
        self.worker = worker
        assert worker.concurrency is not None  # a worker by definition
        self.worker_hours_per_day = task_hours_per_day / (worker.concurrency * assumptions.worker_utilization)
        self.usage = _Usage()
        self.lines: list[Line] = []
        self.notes: list[str] = []
        self.not_priced = dict(resources.not_priced)

    def add(self, component: str, detail: str, idle: float, workload: float | None = None) -> None:
        self.lines.append(Line(component, detail, idle, idle if workload is None else workload))

    def fargate(self) -> None:
        if (
            self.worker.max_capacity is not None
            and self.worker_hours_per_day > self.worker.max_capacity * HOURS_PER_DAY
        ):
            self.notes.append(
                f"{self.task_hours_per_day:g} task-hours/day need {self.worker_hours_per_day:.0f} worker-hours/day, "
                f"more than {self.worker.max_capacity} workers (the pool's max_workers) give in 24 h: tasks would queue"
            )
        # The always-on services first, then the worker pools (as the table lists them).
        for service in sorted(self.resources.services, key=lambda service: service.is_worker):
            self._service(service)

    def _service(self, service: Service) -> None:
        hours, usage = self.hours, self.usage
        capacity = average_capacity(service.baseline_count, list(service.scheduled_actions))
        idle_hours = capacity.average_tasks * hours
        busy_hours = idle_hours
        if service is self.worker:
            busy_hours = max(idle_hours, self.worker_hours_per_day * self.days)
        spot = service.capacity.spot_fraction
        idle_cost = idle_hours * fargate_hourly(service.task, self.prices, spot(idle_hours / hours))
        busy_cost = busy_hours * fargate_hourly(service.task, self.prices, spot(busy_hours / hours))

        # Logs: a share of a month of an always-on task's volume, plus the workload's task logs.
        factor = LOG_LEVEL_FACTOR.get((service.log_level or "INFO").upper(), 1.0)
        idle_gb = idle_hours / hours * self.assumptions.log_gb_per_service_month * factor
        busy_gb = idle_gb
        if service is self.worker:
            busy_gb += self.task_hours_per_day * self.days * self.assumptions.log_gb_per_task_hour * factor
        if service.logs.cloudwatch:
            usage.retentions.add(service.logs.retention_days)
            months_kept = (service.logs.retention_days or UNBOUNDED_RETENTION_DAYS) / DAYS_PER_MONTH_FOR_RETENTION
            usage.cloudwatch_gb.add(idle_gb, busy_gb)
            usage.cloudwatch_stored_gb.add(idle_gb * months_kept, busy_gb * months_kept)
        if service.logs.firehose:
            usage.firehose_gb.add(idle_gb, busy_gb)
        if factor > 1:
            self.notes.append(
                f"{service.name} logs at {service.log_level}: about {factor:g}x the log volume (and cost) of INFO"
            )

        if service.public_ip:
            usage.public_task_hours.add(idle_hours, busy_hours)
        if service.metrics_agent:
            usage.agent_task_hours.add(idle_hours, busy_hours)
        if service.is_worker:
            usage.worker_hours.add(idle_hours, busy_hours)
            detail = f"{_describe_task(service, service.baseline_count)}; {service.concurrency} tasks each"
            if service is self.worker:
                detail += f"; {self.worker_hours_per_day:.1f} worker-hours/day under load"
        else:
            usage.control_plane_tasks.append(capacity.average_tasks)
            detail = _describe_task(service, service.baseline_count)
        if capacity.reduced_share > 0:
            detail += f"; scaled down {capacity.reduced_share:.0%} of hours"
        self.add(f"Fargate: {service.name}", detail, idle_cost, busy_cost)

    def network(self) -> None:
        resources, prices, hours = self.resources, self.prices, self.hours
        alb_ips = 0
        for balancer in resources.load_balancers:
            if balancer.kind != "application":
                key = f"AWS::ElasticLoadBalancingV2::LoadBalancer ({balancer.kind})"
                self.not_priced[key] = self.not_priced.get(key, 0) + 1
                continue
            lcu = self.assumptions.alb_lcu
            where = "internet-facing" if balancer.internet_facing else "internal"
            cost = hours * (prices.elb.alb_hour.usd + lcu * prices.elb.alb_lcu_hour.usd)
            self.add("Application Load Balancer", f"{where}, {_count(lcu)} LCU average", cost)
            if balancer.internet_facing:
                # An internet-facing ALB holds one public IPv4 address per Availability Zone.
                alb_ips += balancer.availability_zones
        self._public_addresses(alb_ips)
        if resources.nat_gateways:
            gb = self.assumptions.nat_gb_per_month
            cost = resources.nat_gateways * hours * prices.vpc.nat_gateway_hour.usd + gb * prices.vpc.nat_gateway_gb.usd
            self.add("NAT gateways", f"{resources.nat_gateways} x, {gb:g} GB/month", cost)
        if resources.vpc_endpoints:
            interface = [endpoint for endpoint in resources.vpc_endpoints if endpoint.kind == "Interface"]
            endpoint_azs = sum(endpoint.availability_zones for endpoint in interface)
            gateway = len(resources.vpc_endpoints) - len(interface)
            cost = endpoint_azs * hours * prices.vpc.interface_endpoint_az_hour.usd
            detail = f"{len(interface)} interface ({endpoint_azs} AZ-endpoints), {gateway} gateway (free)"
            self.add("VPC endpoints", detail, cost)

    def _public_addresses(self, alb_ips: int) -> None:
        resources, tasks = self.resources, self.usage.public_task_hours
        database_ips = sum(1 for database in resources.databases if database.publicly_accessible)
        fixed = alb_ips + resources.elastic_ips + database_ips
        if not (fixed or tasks.workload):
            return
        parts = []
        for count, what in ((alb_ips, "ALB"), (resources.elastic_ips, "Elastic IP"), (database_ips, "RDS")):
            if count:
                parts.append(f"{count} {what}")
        if tasks.workload:
            reason = "" if resources.nat_gateways else " (without NAT a task needs one to reach AWS APIs)"
            parts.append(f"{_count(tasks.idle / self.hours)} tasks idle{reason}")
        price = self.prices.vpc.public_ipv4_hour.usd
        self.add(
            "Public IPv4 addresses",
            ", ".join(parts),
            (fixed * self.hours + tasks.idle) * price,
            (fixed * self.hours + tasks.workload) * price,
        )

    def databases(self) -> None:
        rds = self.prices.rds
        for database in self.resources.databases:
            copies = 2 if database.multi_az else 1  # the standby bills its instance and storage too
            instance = _table_price(
                rds.postgres_instance_hour, database.instance_class, "RDS PostgreSQL instance", self.region
            )
            storage = _table_price(rds.storage_gb_month, database.storage_type, "RDS storage", self.region)
            cost = copies * (instance * self.hours + database.storage_gib * storage)
            detail = f"{database.instance_class}, {database.storage_gib} GB {database.storage_type}"
            detail += ", Multi-AZ" if database.multi_az else ", Single-AZ"
            self.add("RDS PostgreSQL", detail, cost)

    def secrets(self) -> None:
        if self.resources.secrets:
            cost = self.resources.secrets * self.prices.secrets_manager.secret_month.usd
            self.add("Secrets Manager", _plural(self.resources.secrets, "secret"), cost)

    def monitoring(self) -> None:
        resources, cloudwatch, usage = self.resources, self.prices.cloudwatch, self.usage
        # Custom metrics are billed by the hour they receive data: Airflow's statsd metrics and the
        # autoscaler (a sidecar of the scheduler) publish while the control plane runs, so a
        # night/weekend scale-down cuts the line too. https://aws.amazon.com/cloudwatch/pricing/
        share = usage.control_plane_share
        statsd_metrics = len(resources.statsd_allow_list)
        autoscaler_metrics = 0
        if resources.autoscaler is not None:
            autoscaler_metrics = AUTOSCALER_METRICS_PER_POOL * len(resources.workers)
            if resources.autoscaler.namespaces > 1:
                autoscaler_metrics += AUTOSCALER_SEED_METRICS
        if statsd_metrics or autoscaler_metrics:
            cost = (statsd_metrics + autoscaler_metrics) * share * cloudwatch.custom_metric_month.usd
            detail = f"{statsd_metrics} statsd (allow-list) + {autoscaler_metrics} autoscaler"
            if share < 1:
                detail += f"; published {share:.0%} of hours"
            self.add("CloudWatch custom metrics", detail, cost)
            self.notes.append(
                "each statsd allow-list entry is counted as one metric; an entry that matches per-DAG or "
                "per-task names (e.g. dagrun.duration.failed.<dag_id>) costs one metric per DAG"
            )
        autoscaler_requests = 0.0
        if resources.autoscaler is not None:
            periods = self.hours * 3600 / resources.autoscaler.period_seconds
            autoscaler_requests = resources.autoscaler.namespaces * periods * share
        idle = usage.agent_task_hours.idle * AGENT_REQUESTS_PER_TASK_HOUR + autoscaler_requests
        busy = usage.agent_task_hours.workload * AGENT_REQUESTS_PER_TASK_HOUR + autoscaler_requests
        if busy:
            price = cloudwatch.put_metric_data_thousand_requests.usd / 1000
            detail = f"{idle / 1000:,.0f}k requests/month idle (statsd agents, autoscaler)"
            self.add("CloudWatch PutMetricData", detail, idle * price, busy * price)
        if resources.alarm_metrics:
            cost = resources.alarm_metrics * cloudwatch.alarm_month.usd
            self.add("CloudWatch alarms", _plural(resources.alarm_metrics, "alarm metric"), cost)
        if resources.dashboards:
            cost = resources.dashboards * cloudwatch.dashboard_month.usd
            self.add("CloudWatch dashboards", _plural(resources.dashboards, "dashboard"), cost)
        if resources.container_insights:
            self.notes.append(
                "Container Insights is on: its metrics are billed as custom metrics and are not in this estimate"
            )

    def logs(self) -> None:
        usage, cloudwatch = self.usage, self.prices.cloudwatch
        if usage.retentions:
            if None in usage.retentions:
                self.notes.append(
                    f"a log group never expires its logs: storage counts {UNBOUNDED_RETENTION_DAYS} days of them"
                )
            kept = ", ".join(sorted(str(days) if days is not None else "never expiring" for days in usage.retentions))
            ingested, stored = usage.cloudwatch_gb, usage.cloudwatch_stored_gb
            self.add(
                "CloudWatch Logs",
                f"{ingested.idle:.1f} GB/month idle, {ingested.workload:.1f} under load; kept {kept} days",
                ingested.idle * cloudwatch.logs_ingestion_gb.usd + stored.idle * cloudwatch.logs_storage_gb_month.usd,
                ingested.workload * cloudwatch.logs_ingestion_gb.usd
                + stored.workload * cloudwatch.logs_storage_gb_month.usd,
            )
        if self.resources.firehose_streams:
            price = self.prices.firehose.ingestion_gb.usd
            carried = "service logs" if usage.firehose_gb.workload else "no service logs (one-off tasks only)"
            self.add(
                "Kinesis Data Firehose",
                f"{_plural(self.resources.firehose_streams, 'stream')}: {carried}",
                usage.firehose_gb.idle * price,
                usage.firehose_gb.workload * price,
            )

    def storage_and_queues(self) -> None:
        resources, prices, usage = self.resources, self.prices, self.usage
        if resources.buckets:
            expirations = [days for days in resources.bucket_expiration_days if days is not None]
            kept_days = max(expirations) if expirations else UNBOUNDED_RETENTION_DAYS
            if not expirations:
                self.notes.append(
                    f"no S3 lifecycle rule expires objects: task logs count {UNBOUNDED_RETENTION_DAYS} days"
                )
            months = kept_days / DAYS_PER_MONTH_FOR_RETENTION
            price = prices.s3.standard_gb_month.usd
            task_log_gb = self.task_hours_per_day * self.days * self.assumptions.log_gb_per_task_hour
            self.add(
                "S3",
                f"{_plural(resources.buckets, 'bucket')}: task logs (and Firehose output) kept {kept_days} days",
                usage.firehose_gb.idle * months * price,
                (usage.firehose_gb.workload + task_log_gb) * months * price,
            )
        if resources.queues:
            price = prices.sqs.million_requests.usd / 1_000_000
            self.add(
                "SQS",
                f"{_plural(resources.queues, 'queue')}, ~{SQS_REQUESTS_PER_WORKER_HOUR} requests per worker-hour",
                usage.worker_hours.idle * SQS_REQUESTS_PER_WORKER_HOUR * price,
                usage.worker_hours.workload * SQS_REQUESTS_PER_WORKER_HOUR * price,
            )
        if resources.ecr_repositories or resources.uses_cdk_asset_images:
            images = resources.ecr_images_kept
            if images is None:
                images = UNBOUNDED_ECR_IMAGES
                self.notes.append(f"no ECR lifecycle rule bounds the images: {UNBOUNDED_ECR_IMAGES} images assumed")
            cost = images * self.assumptions.image_gb * prices.ecr.storage_gb_month.usd
            self.add("ECR", f"{images} images x {self.assumptions.image_gb:g} GB", cost)
        if resources.kms_keys:
            cost = resources.kms_keys * prices.kms.key_month.usd
            self.add("KMS keys", _plural(resources.kms_keys, "customer managed key"), cost)
        if resources.private_dns_namespaces:
            cost = resources.private_dns_namespaces * prices.route53.hosted_zone_month.usd
            self.add("Route 53 (Cloud Map)", _plural(resources.private_dns_namespaces, "private hosted zone"), cost)


def estimate(
    resources: StackResources,
    table: PriceTable,
    region: str,
    assumptions: CostConfig,
    task_hours_per_day: float,
    pool: str | None = None,
) -> Estimate:
    """The monthly bill of ``resources`` in ``region``, idle and at ``task_hours_per_day``."""
    if task_hours_per_day < 0:
        raise ValueError("task hours per day cannot be negative")
    prices = table.region(region)
    hours = table.hours_per_month
    bill = _Bill(resources, prices, region, hours, assumptions, task_hours_per_day, resources.worker(pool))
    # Order matters: the Fargate lines gather the usage the later lines price.
    bill.fargate()
    bill.network()
    bill.databases()
    bill.secrets()
    bill.monitoring()
    bill.logs()
    bill.storage_and_queues()
    utilization, metadata_gb = assumptions.worker_utilization, assumptions.mwaa_metadata_gb
    schedulers = assumptions.mwaa_extra_schedulers
    return Estimate(
        region=region,
        prices_checked=table.last_checked(),
        hours_per_month=hours,
        task_hours_per_day=task_hours_per_day,
        worker_pool=bill.worker.pool or bill.worker.name,
        worker_hours_per_day=bill.worker_hours_per_day,
        lines=tuple(bill.lines),
        mwaa_idle=tuple(mwaa_estimates(prices.mwaa, 0.0, utilization, metadata_gb, hours, schedulers)),
        mwaa=tuple(mwaa_estimates(prices.mwaa, task_hours_per_day, utilization, metadata_gb, hours, schedulers)),
        assumptions=assumptions,
        not_priced=bill.not_priced,
        notes=tuple(dict.fromkeys(bill.notes)),
    )
