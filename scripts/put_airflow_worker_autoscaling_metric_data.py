#!/usr/bin/env python3
"""The seed's metric script, kept so its command still works: one autoscaler poll that publishes metrics.

It publishes the seed's ``CapacityProviderReservation`` and ``NumberOfActiveRunningTasks`` (and
the per-pool metrics) once, from where the metadata database is reachable (inside the VPC, e.g.
in a container of the stack). It is ``python -m deploy_airflow_on_ecs_fargate.autoscaler once
--backend ecs --publish``; the worker autoscaler service does the same continuously, every few
seconds, so this script is only needed for a one-off reading. Extra arguments are passed on
(e.g. ``--apply`` to also set the workers' desired count).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from deploy_airflow_on_ecs_fargate.autoscaler.__main__ import main as autoscaler_main

    return autoscaler_main(["once", "--backend", "ecs", "--publish", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
