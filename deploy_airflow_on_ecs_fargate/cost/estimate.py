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
    days = hours / HOURS_PER_DAY
    lines: list[Line] = []
    notes: list[str] = []
    not_priced = dict(resources.not_priced)
    busy_worker = resources.worker(pool)
    assert busy_worker.concurrency is not None  # a worker by definition
    worker_hours_per_day = task_hours_per_day / (busy_worker.concurrency * assumptions.worker_utilization)
    if busy_worker.max_capacity is not None and worker_hours_per_day > busy_worker.max_capacity * HOURS_PER_DAY:
        notes.append(
            f"{task_hours_per_day:g} task-hours/day need {worker_hours_per_day:.0f} worker-hours/day, more than "
            f"{busy_worker.max_capacity} workers (the pool's max_workers) give in 24 h: tasks would queue"
        )

    # --- Fargate services -------------------------------------------------------------------
    idle_task_hours = 0.0  # per month, every running task: logs and public IPs follow them
    workload_task_hours = 0.0
    idle_public_task_hours = 0.0
    workload_public_task_hours = 0.0
    # Log volume per destination (GB per month), and GB-months kept in CloudWatch at steady state.
    cloudwatch_gb = [0.0, 0.0]  # idle, workload
    cloudwatch_stored = [0.0, 0.0]
    firehose_gb = [0.0, 0.0]
    retention_seen: set[int | None] = set()
    idle_worker_hours_all = 0.0
    workload_worker_hours_all = 0.0
    idle_agent_task_hours = 0.0
    workload_agent_task_hours = 0.0
    always_on_tasks: dict[str, float] = {}
    # The always-on services first, then the worker pools (as the table lists them).
    for service in sorted(resources.services, key=lambda service: service.is_worker):
        capacity = average_capacity(service.baseline_count, list(service.scheduled_actions))
        idle_tasks = capacity.average_tasks
        idle_hours = idle_tasks * hours
        busy_hours = idle_hours
        if service is busy_worker:
            busy_hours = max(idle_hours, worker_hours_per_day * days)
        idle_cost = idle_hours * fargate_hourly(service.task, prices, service.capacity.spot_fraction(idle_tasks))
        busy_cost = busy_hours * fargate_hourly(
            service.task, prices, service.capacity.spot_fraction(busy_hours / hours)
        )
        factor = LOG_LEVEL_FACTOR.get((service.log_level or "INFO").upper(), 1.0)
        service_gb = idle_hours / hours * assumptions.log_gb_per_service_month * factor
        busy_gb = service_gb
        if service is busy_worker:
            busy_gb += task_hours_per_day * days * assumptions.log_gb_per_task_hour * factor
        if service.logs.cloudwatch:
            days_kept = service.logs.retention_days
            retention_seen.add(days_kept)
            months_kept = (days_kept or UNBOUNDED_RETENTION_DAYS) / DAYS_PER_MONTH_FOR_RETENTION
            for index, gb in enumerate((service_gb, busy_gb)):
                cloudwatch_gb[index] += gb
                cloudwatch_stored[index] += gb * months_kept
        if service.logs.firehose:
            firehose_gb[0] += service_gb
            firehose_gb[1] += busy_gb
        idle_task_hours += idle_hours
        workload_task_hours += busy_hours
        if service.public_ip:
            idle_public_task_hours += idle_hours
            workload_public_task_hours += busy_hours
        if service.is_worker:
            idle_worker_hours_all += idle_hours
            workload_worker_hours_all += busy_hours
        else:
            always_on_tasks[service.name] = idle_tasks
        if service.metrics_agent:
            idle_agent_task_hours += idle_hours
            workload_agent_task_hours += busy_hours
        if service.is_worker:
            detail = f"{_describe_task(service, service.baseline_count)}; {service.concurrency} tasks each"
            if service is busy_worker:
                detail += f"; {worker_hours_per_day:.1f} worker-hours/day under load"
        else:
            detail = _describe_task(service, service.baseline_count)
        if capacity.reduced_share > 0:
            detail += f"; scaled down {capacity.reduced_share:.0%} of hours"
        if service.log_level and service.log_level.upper() == "DEBUG":
            notes.append(f"{service.name} logs at DEBUG: about {factor:g}x the log volume (and cost) of INFO")
        lines.append(Line(f"Fargate: {service.name}", detail, idle_cost, busy_cost))

    # --- Load balancers and addresses --------------------------------------------------------
    public_ips = resources.elastic_ips
    alb_ips = 0
    for balancer in resources.load_balancers:
        if balancer.kind != "application":
            key = f"AWS::ElasticLoadBalancingV2::LoadBalancer ({balancer.kind})"
            not_priced[key] = not_priced.get(key, 0) + 1
            continue
        cost = hours * (prices.elb.alb_hour.usd + assumptions.alb_lcu * prices.elb.alb_lcu_hour.usd)
        where = "internet-facing" if balancer.internet_facing else "internal"
        lines.append(
            Line(
                "Application Load Balancer",
                f"{where}, {_count(assumptions.alb_lcu)} LCU average",
                cost,
                cost,
            )
        )
        if balancer.internet_facing:
            # An internet-facing ALB holds one public IPv4 address per Availability Zone.
            alb_ips += balancer.availability_zones
    database_ips = sum(1 for database in resources.databases if database.publicly_accessible)
    fixed_ips = alb_ips + public_ips + database_ips
    ip_price = prices.vpc.public_ipv4_hour.usd
    if fixed_ips or workload_public_task_hours:
        parts = []
        if alb_ips:
            parts.append(f"{alb_ips} ALB")
        if public_ips:
            parts.append(f"{public_ips} Elastic IP")
        if database_ips:
            parts.append(f"{database_ips} RDS")
        if idle_public_task_hours or workload_public_task_hours:
            reason = "" if resources.nat_gateways else " (without NAT a task needs one to reach AWS APIs)"
            parts.append(f"{_count(idle_public_task_hours / hours)} tasks idle{reason}")
        lines.append(
            Line(
                "Public IPv4 addresses",
                ", ".join(parts),
                (fixed_ips * hours + idle_public_task_hours) * ip_price,
                (fixed_ips * hours + workload_public_task_hours) * ip_price,
            )
        )
    if resources.nat_gateways:
        cost = resources.nat_gateways * hours * prices.vpc.nat_gateway_hour.usd
        cost += assumptions.nat_gb_per_month * prices.vpc.nat_gateway_gb.usd
        lines.append(
            Line("NAT gateways", f"{resources.nat_gateways} x, {assumptions.nat_gb_per_month:g} GB/month", cost, cost)
        )
    interface = [endpoint for endpoint in resources.vpc_endpoints if endpoint.kind == "Interface"]
    if resources.vpc_endpoints:
        endpoint_azs = sum(endpoint.availability_zones for endpoint in interface)
        cost = endpoint_azs * hours * prices.vpc.interface_endpoint_az_hour.usd
        gateway = len(resources.vpc_endpoints) - len(interface)
        lines.append(
            Line(
                "VPC endpoints",
                f"{len(interface)} interface ({endpoint_azs} AZ-endpoints), {gateway} gateway (free)",
                cost,
                cost,
            )
        )

    # --- Metadata database -------------------------------------------------------------------
    for database in resources.databases:
        copies = 2 if database.multi_az else 1
        instance_class = database.instance_class
        instance = _table_price(prices.rds.postgres_instance_hour, instance_class, "RDS PostgreSQL instance", region)
        storage = _table_price(prices.rds.storage_gb_month, database.storage_type, "RDS storage", region)
        cost = copies * (instance * hours + database.storage_gib * storage)
        detail = f"{instance_class}, {database.storage_gib} GB {database.storage_type}"
        detail += ", Multi-AZ" if database.multi_az else ", Single-AZ"
        lines.append(Line("RDS PostgreSQL", detail, cost, cost))

    # --- Secrets, metrics, alarms, dashboards ------------------------------------------------
    if resources.secrets:
        cost = resources.secrets * prices.secrets_manager.secret_month.usd
        lines.append(Line("Secrets Manager", _plural(resources.secrets, "secret"), cost, cost))
    # Custom metrics are billed by the hour they receive data: a metric whose publisher is
    # scaled down at night costs only its daytime share. Airflow's metrics and the autoscaler
    # (a sidecar of the scheduler) publish while the control plane runs.
    # https://aws.amazon.com/cloudwatch/pricing/ ("metrics are prorated by the hour")
    publishing_share = min(1.0, max(always_on_tasks.values(), default=1.0))
    statsd_metrics = len(resources.statsd_allow_list)
    autoscaler_metrics = 0
    if resources.autoscaler is not None:
        autoscaler_metrics = AUTOSCALER_METRICS_PER_POOL * len(resources.workers)
        if resources.autoscaler.namespaces > 1:
            autoscaler_metrics += AUTOSCALER_SEED_METRICS
    if statsd_metrics or autoscaler_metrics:
        metrics = statsd_metrics + autoscaler_metrics
        cost = metrics * publishing_share * prices.cloudwatch.custom_metric_month.usd
        detail = f"{statsd_metrics} statsd (allow-list) + {autoscaler_metrics} autoscaler"
        if publishing_share < 1:
            detail += f"; published {publishing_share:.0%} of hours"
        lines.append(Line("CloudWatch custom metrics", detail, cost, cost))
        notes.append(
            "each statsd allow-list entry is counted as one metric; an entry that matches per-DAG or "
            "per-task names (e.g. dagrun.duration.failed.<dag_id>) costs one metric per DAG"
        )
    agent_idle = idle_agent_task_hours * AGENT_REQUESTS_PER_TASK_HOUR
    agent_busy = workload_agent_task_hours * AGENT_REQUESTS_PER_TASK_HOUR
    autoscaler_requests = 0.0
    if resources.autoscaler is not None:
        periods = hours * 3600 / resources.autoscaler.period_seconds
        autoscaler_requests = resources.autoscaler.namespaces * periods * publishing_share
    if agent_idle or agent_busy or autoscaler_requests:
        price = prices.cloudwatch.put_metric_data_thousand_requests.usd / 1000
        lines.append(
            Line(
                "CloudWatch PutMetricData",
                f"{(agent_idle + autoscaler_requests) / 1000:,.0f}k requests/month idle (statsd agents, autoscaler)",
                (agent_idle + autoscaler_requests) * price,
                (agent_busy + autoscaler_requests) * price,
            )
        )
    if resources.alarm_metrics:
        cost = resources.alarm_metrics * prices.cloudwatch.alarm_month.usd
        lines.append(Line("CloudWatch alarms", _plural(resources.alarm_metrics, "alarm metric"), cost, cost))
    if resources.dashboards:
        cost = resources.dashboards * prices.cloudwatch.dashboard_month.usd
        lines.append(Line("CloudWatch dashboards", _plural(resources.dashboards, "dashboard"), cost, cost))

    # --- Logs --------------------------------------------------------------------------------
    if retention_seen:
        if None in retention_seen:
            notes.append(f"a log group never expires its logs: storage counts {UNBOUNDED_RETENTION_DAYS} days of them")
        kept = sorted(str(days) if days is not None else "never expiring" for days in retention_seen)
        logs = prices.cloudwatch
        lines.append(
            Line(
                "CloudWatch Logs",
                f"{cloudwatch_gb[0]:.1f} GB/month idle, {cloudwatch_gb[1]:.1f} under load; kept {', '.join(kept)} days",
                cloudwatch_gb[0] * logs.logs_ingestion_gb.usd + cloudwatch_stored[0] * logs.logs_storage_gb_month.usd,
                cloudwatch_gb[1] * logs.logs_ingestion_gb.usd + cloudwatch_stored[1] * logs.logs_storage_gb_month.usd,
            )
        )
    if resources.firehose_streams:
        price = prices.firehose.ingestion_gb.usd
        carried = "service logs" if firehose_gb[1] else "no service logs (one-off tasks only)"
        lines.append(
            Line(
                "Kinesis Data Firehose",
                f"{_plural(resources.firehose_streams, 'stream')}: {carried}",
                firehose_gb[0] * price,
                firehose_gb[1] * price,
            )
        )

    # --- Storage and queues ------------------------------------------------------------------
    if resources.buckets:
        expirations = [days for days in resources.bucket_expiration_days if days is not None]
        kept_days = max(expirations) if expirations else UNBOUNDED_RETENTION_DAYS
        if not expirations:
            notes.append(f"no S3 lifecycle rule expires objects: task logs count {UNBOUNDED_RETENTION_DAYS} days")
        months = kept_days / DAYS_PER_MONTH_FOR_RETENTION
        price = prices.s3.standard_gb_month.usd
        task_log_gb = task_hours_per_day * days * assumptions.log_gb_per_task_hour
        lines.append(
            Line(
                "S3",
                f"{_plural(resources.buckets, 'bucket')}: task logs (and Firehose output) kept {kept_days} days",
                firehose_gb[0] * months * price,
                (firehose_gb[1] + task_log_gb) * months * price,
            )
        )
    if resources.queues:
        price = prices.sqs.million_requests.usd / 1_000_000
        lines.append(
            Line(
                "SQS",
                f"{_plural(resources.queues, 'queue')}, ~{SQS_REQUESTS_PER_WORKER_HOUR} requests per worker-hour",
                idle_worker_hours_all * SQS_REQUESTS_PER_WORKER_HOUR * price,
                workload_worker_hours_all * SQS_REQUESTS_PER_WORKER_HOUR * price,
            )
        )
    repositories = resources.ecr_repositories + (1 if resources.uses_cdk_asset_images else 0)
    if repositories:
        images = resources.ecr_images_kept
        if images is None:
            images = UNBOUNDED_ECR_IMAGES
            notes.append(f"no ECR lifecycle rule bounds the images: {UNBOUNDED_ECR_IMAGES} images assumed")
        gb = images * assumptions.image_gb
        cost = gb * prices.ecr.storage_gb_month.usd
        lines.append(Line("ECR", f"{images} images x {assumptions.image_gb:g} GB", cost, cost))
    if resources.kms_keys:
        cost = resources.kms_keys * prices.kms.key_month.usd
        lines.append(Line("KMS keys", _plural(resources.kms_keys, "customer managed key"), cost, cost))
    if resources.private_dns_namespaces:
        cost = resources.private_dns_namespaces * prices.route53.hosted_zone_month.usd
        lines.append(
            Line("Route 53 (Cloud Map)", _plural(resources.private_dns_namespaces, "private hosted zone"), cost, cost)
        )
    if resources.container_insights:
        notes.append("Container Insights is on: its metrics are billed as custom metrics and are not in this estimate")

    idle_mwaa = mwaa_estimates(prices.mwaa, 0.0, assumptions.worker_utilization, assumptions.mwaa_metadata_gb, hours)
    busy_mwaa = mwaa_estimates(
        prices.mwaa, task_hours_per_day, assumptions.worker_utilization, assumptions.mwaa_metadata_gb, hours
    )
    return Estimate(
        region=region,
        prices_checked=table.last_checked(),
        hours_per_month=hours,
        task_hours_per_day=task_hours_per_day,
        worker_pool=busy_worker.pool or busy_worker.name,
        worker_hours_per_day=worker_hours_per_day,
        lines=tuple(lines),
        mwaa_idle=tuple(idle_mwaa),
        mwaa=tuple(busy_mwaa),
        not_priced=not_priced,
        notes=tuple(dict.fromkeys(notes)),
    )
