"""Worker autoscaler: scales each Celery worker pool from 0 in seconds, never stopping a busy worker.

Modules: ``decision`` (pure scaling rule), ``active_tasks`` (the count query), ``ecs_backend`` and
``local_backend`` (where workers live), ``metrics`` (CloudWatch), ``state`` (what ``ecsflow status``
reads), ``controller`` (the loop), ``task_protection`` (worker side, ECS scale-in protection).
See docs/autoscaling.md.
"""
