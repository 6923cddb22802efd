"""Application Auto Scaling: scalable targets for every service and, optionally, night/weekend schedules.

Every service gets a scalable target (control plane: 0..``max_count``; workers: ``min_workers``..
``max_workers``) so ``ecsflow scale --at/--for`` can add scheduled actions to it. With
``scheduled_scaling.enabled`` the stack adds two actions per service, in ``scheduled_scaling.timezone``:
at ``scale_down_cron`` everything goes to 0 (the workers too: with the scheduler, and so the
autoscaler, stopped, no worker may stay up unobserved), at ``scale_up_cron`` the control plane
returns to its ``desired_count`` and the workers to their bounds.
https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import TimeZone
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from deploy_airflow_on_ecs_fargate.config import ServiceConfig, Settings
from infrastructure.workers import WorkerPoolService


@dataclass(frozen=True)
class ControlPlaneService:
    key: str
    service: ecs.FargateService
    config: ServiceConfig


class ScheduledScaling(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        control_plane: list[ControlPlaneService],
        workers: list[WorkerPoolService],
    ) -> None:
        super().__init__(scope, construct_id)
        schedule = settings.scheduled_scaling
        self.targets: dict[str, ecs.ScalableTaskCount] = {}
        for item in control_plane:
            self.targets[item.key] = item.service.auto_scale_task_count(
                min_capacity=0, max_capacity=item.config.max_count
            )
        for worker in workers:
            self.targets[f"worker-{worker.pool.name}"] = worker.scalable_target
        if not schedule.enabled:
            return
        zone = TimeZone.of(schedule.timezone)
        down = appscaling.Schedule.expression(schedule.scale_down_cron)
        up = appscaling.Schedule.expression(schedule.scale_up_cron)
        for item in control_plane:
            target = self.targets[item.key]
            target.scale_on_schedule("ScaleDown", schedule=down, min_capacity=0, max_capacity=0, time_zone=zone)
            target.scale_on_schedule(
                "ScaleUp",
                schedule=up,
                min_capacity=item.config.desired_count,
                max_capacity=item.config.max_count,
                time_zone=zone,
            )
        for worker in workers:
            target = worker.scalable_target
            target.scale_on_schedule("ScaleDown", schedule=down, min_capacity=0, max_capacity=0, time_zone=zone)
            target.scale_on_schedule(
                "ScaleUp",
                schedule=up,
                min_capacity=worker.pool.min_workers,
                max_capacity=worker.pool.max_workers,
                time_zone=zone,
            )
