"""Offline checks of the synthesized template: cfn-lint, checkov, and cdk-nag's acknowledgments.

cdk-nag runs during synthesis (synth.py) and fails it on any unacknowledged finding; here we only
list what was acknowledged, with the reasons. checkov runs from its own virtualenv
(``.venv-checkov``, created by ``scripts/run_tests.py``: it pins an old boto3), and its failures are
split into those ``checkov-skips.yaml`` accepts with a written reason and the others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aws_cdk import Stack, Validations

ROOT = Path(__file__).resolve().parent.parent
CHECKOV_SKIPS_FILE = Path(__file__).resolve().parent / "checkov-skips.yaml"
CHECKOV = ROOT / ".venv-checkov" / ("Scripts" if os.name == "nt" else "bin") / "checkov"


class ScannerUnavailableError(Exception):
    """A scanner is not installed (run ``./ecsflow test`` once to install it)."""


@dataclass(frozen=True)
class LintResult:
    by_level: Counter[str]
    messages: list[str]

    @property
    def errors(self) -> int:
        return self.by_level["Error"]


def run_cfn_lint(template: Path) -> LintResult:
    """cfn-lint with its default rules; levels are Error, Warning and Informational."""
    from cfnlint.api import lint_file

    matches = lint_file(template)
    levels: Counter[str] = Counter(match.rule.severity.capitalize() for match in matches)
    messages = [f"{match.rule.id} {match.message}" for match in matches]
    return LintResult(by_level=levels, messages=messages)


@dataclass(frozen=True)
class CheckovResult:
    passed: int
    failed: list[str]  # "<check id> <resource>" of failed checks that checkov-skips.yaml does not accept
    skipped: Counter[str] = field(default_factory=Counter)  # accepted check ID -> failed resources
    unused_skips: list[str] = field(default_factory=list)  # accepted IDs that no longer fail (stale)


def checkov_skips() -> dict[str, str]:
    """The committed accepted findings: check ID -> written reason."""
    data = yaml.safe_load(CHECKOV_SKIPS_FILE.read_text(encoding="utf-8")) or {}
    return {str(check): str(reason).strip() for check, reason in data.items()}


def run_checkov(template: Path) -> CheckovResult:
    """One checkov run with every check; failures are then split into accepted (skipped) and not.

    Not passing ``--skip-check``: checkov drops such checks silently, and a stale entry in the
    skips file could then never be noticed.
    """
    if not CHECKOV.exists():
        raise ScannerUnavailableError(f"{CHECKOV} is missing; `./ecsflow test` installs it")
    skips = checkov_skips()
    command = [
        str(CHECKOV),
        "--file",
        str(template),
        "--framework",
        "cloudformation",
        "--output",
        "json",
        # Offline: no guideline download from the vendor's API.
        "--skip-download",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    # checkov exits 1 when a check failed; anything else without JSON is a crash.
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise ScannerUnavailableError(
            f"checkov did not report (exit {completed.returncode}): {completed.stderr[-500:]}"
        ) from None
    if isinstance(report, list):
        report = next(item for item in report if item.get("check_type") == "cloudformation")
    failed_checks = report.get("results", {}).get("failed_checks", [])
    failed = [f"{item['check_id']} {item['resource']}" for item in failed_checks if item["check_id"] not in skips]
    skipped = Counter(item["check_id"] for item in failed_checks if item["check_id"] in skips)
    return CheckovResult(
        passed=int(report["summary"]["passed"]),
        failed=failed,
        skipped=skipped,
        unused_skips=sorted(set(skips) - set(skipped)),
    )


def nag_acknowledgments(stack: Stack) -> dict[str, set[str]]:
    """cdk-nag rules acknowledged anywhere in the stack: rule (or finding) ID -> its reasons."""
    acknowledged: dict[str, set[str]] = {}
    for construct in stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for rule, reason in dict(entry.data).items():
                if "AwsSolutions-" in rule:
                    acknowledged.setdefault(rule.split("::", 1)[-1], set()).add(str(reason))
    return acknowledged


def main() -> None:  # pragma: no cover - convenience for `python -m infrastructure.scanners FILE`
    template = Path(sys.argv[1])
    sys.stdout.write(f"cfn-lint: {dict(run_cfn_lint(template).by_level)}\n")
    sys.stdout.write(f"checkov: {run_checkov(template)}\n")


if __name__ == "__main__":
    main()
