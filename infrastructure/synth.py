"""Synthesize the stack in-process: for tests, the cost estimate and anything that needs the template.

``synthesize(settings)`` returns the CloudFormation template as a dict. cdk-nag's AwsSolutions
checks run as a validation plugin during synthesis (``checks=True``): an unacknowledged finding
raises, so a template that comes out of here passed them.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

# jsii prints an end-of-life banner on Node 20 at every start; the version works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from deploy_airflow_on_ecs_fargate.config import Settings
from infrastructure.stack import AirflowStack


def build_app(
    settings: Settings, *, outdir: str | None = None, checks: bool = True, context: dict[str, Any] | None = None
) -> tuple[App, AirflowStack]:
    """The CDK app with the stack; ``context`` adds CDK context values (as ``cdk -c key=value`` does)."""
    app = App(outdir=outdir, context=context) if outdir else App(context=context)
    stack = AirflowStack(app, settings=settings)
    if checks:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app, stack


def synthesize(settings: Settings, *, checks: bool = True) -> dict[str, Any]:
    """The stack's CloudFormation template for ``settings``."""
    with tempfile.TemporaryDirectory(prefix="ecsflow-synth-") as outdir:
        app, stack = build_app(settings, outdir=outdir, checks=checks)
        assembly = app.synth()
        template: dict[str, Any] = assembly.get_stack_by_name(stack.stack_name).template
        return template
