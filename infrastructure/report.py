"""Print what the example config synthesizes and what the scanners say about it.

    .venv/bin/python -m infrastructure.report [--config ecsflow.yaml]

Resource counts by type, in-process synth time, cfn-lint levels, checkov passed/failed/skipped,
and the cdk-nag findings acknowledged (with their reasons).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from deploy_airflow_on_ecs_fargate.config import ConfigError, load_config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="config file (default: ecsflow.yaml or $ECSFLOW_CONFIG)")
    args = parser.parse_args(argv)
    try:
        settings = load_config(args.config)
    except ConfigError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    from infrastructure.scanners import nag_acknowledgments, run_cfn_lint, run_checkov
    from infrastructure.synth import build_app

    out = sys.stdout.write
    with tempfile.TemporaryDirectory(prefix="ecsflow-report-") as outdir:
        started = time.monotonic()
        app, stack = build_app(settings, outdir=outdir)
        assembly = app.synth()
        seconds = time.monotonic() - started
        template_path = Path(outdir) / assembly.get_stack_by_name(stack.stack_name).template_file
        template = json.loads(template_path.read_text(encoding="utf-8"))
        counts = Counter(resource["Type"] for resource in template["Resources"].values())
        out(f"stack {stack.stack_name}: {sum(counts.values())} resources, synthesized in {seconds:.1f} s\n")
        for resource_type, count in sorted(counts.items()):
            out(f"  {count:3d}  {resource_type}\n")
        out(f"outputs: {len(template.get('Outputs', {}))}\n")
        lint = run_cfn_lint(template_path)
        out(
            f"cfn-lint: {lint.errors} errors, {lint.by_level['Warning']} warnings, "
            f"{lint.by_level['Informational']} informational\n"
        )
        for message in lint.messages:
            out(f"  {message}\n")
        checkov = run_checkov(template_path)
        out(
            f"checkov: {checkov.passed} passed, {len(checkov.failed)} failed, "
            f"{sum(checkov.skipped.values())} skipped ({len(checkov.skipped)} check IDs, reasons in "
            f"infrastructure/checkov-skips.yaml), stale skips: {checkov.unused_skips or 'none'}\n"
        )
        for failure in checkov.failed:
            out(f"  FAILED {failure}\n")
        acknowledged = nag_acknowledgments(stack)
        out(f"cdk-nag AwsSolutions: 0 unacknowledged (synthesis fails otherwise), {len(acknowledged)} acknowledged\n")
        for rule, reasons in sorted(acknowledged.items()):
            for reason in sorted(reasons):
                out(f"  {rule}: {reason}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
