"""CDK app entry point: ``cdk synth`` / ``cdk deploy`` run it through ``cdk.json``.

Reads the project's config (``ecsflow.yaml`` or ``$ECSFLOW_CONFIG``, plus ``ECSFLOW_*`` overrides);
an invalid config stops here with every problem listed, before anything is synthesized.
"""

from __future__ import annotations

import os
import sys

from deploy_airflow_on_ecs_fargate.config import ConfigError, load_config


def main() -> int:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    try:
        settings = load_config()
    except ConfigError as error:
        lines = [f"ecsflow: invalid configuration in {error.source}:", *(f"  - {p}" for p in error.problems)]
        sys.stderr.write("\n".join(lines) + "\n")
        return 2
    from infrastructure.synth import build_app

    try:
        app, _stack = build_app(settings)
    except ValueError as error:  # a combination of settings and CDK context the stack refuses
        sys.stderr.write(f"ecsflow: {error}\n")
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
