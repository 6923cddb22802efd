"""`cdk synth` through the CLI, cfn-lint, checkov and cdk-nag on the example config's stack; counts go to the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from infrastructure.scanners import checkov_skips, nag_acknowledgments, run_cfn_lint, run_checkov

if TYPE_CHECKING:
    from tests.infra.conftest import CliSynth, Synthesized


def test_cdk_cli_synth_without_credentials(cli_synth: CliSynth, example: Synthesized) -> None:
    template = json.loads(cli_synth.template_path.read_text())
    # cdk.json runs the same app: the CLI's template is the one the tests check.
    assert template["Resources"].keys() == example.template["Resources"].keys()
    assert template["Outputs"] == example.template["Outputs"]


def test_cfn_lint_finds_no_errors(cli_synth: CliSynth, report: dict[str, str]) -> None:
    result = run_cfn_lint(cli_synth.template_path)
    report["cfn-lint"] = (
        f"{result.errors} errors, {result.by_level['Warning']} warnings, {result.by_level['Informational']} "
        f"informational ({'; '.join(result.messages) or 'none'})"
    )
    assert result.errors == 0, result.messages


def test_checkov_has_no_unaccepted_failure(cli_synth: CliSynth, report: dict[str, str]) -> None:
    result = run_checkov(cli_synth.template_path)
    report["checkov"] = (
        f"{result.passed} passed, {len(result.failed)} failed, {sum(result.skipped.values())} skipped "
        f"({len(result.skipped)} check IDs accepted in infrastructure/checkov-skips.yaml)"
    )
    assert result.failed == [], "fix these or accept them with a reason in checkov-skips.yaml"
    assert result.unused_skips == [], "these no longer fail: remove them from checkov-skips.yaml"


def test_every_checkov_skip_has_a_written_reason() -> None:
    skips = checkov_skips()
    assert skips
    for check, reason in skips.items():
        assert check.startswith("CKV"), check
        assert len(reason.split()) >= 8, f"{check}: say why"


def test_cdk_nag_acknowledgments_all_have_reasons(
    example: Synthesized, variant: Synthesized, report: dict[str, str]
) -> None:
    # Reaching here means synthesis (with AwsSolutionsChecks as a validation plugin) raised nothing:
    # zero unacknowledged findings, for the example and for the variant.
    acknowledged = nag_acknowledgments(example.stack)
    report["cdk-nag AwsSolutions"] = (
        f"0 unacknowledged; {len(acknowledged)} rule/finding IDs acknowledged with reasons "
        f"({len(nag_acknowledgments(variant.stack))} in the variant)"
    )
    assert acknowledged
    for rule, reasons in acknowledged.items():
        assert all(len(reason.split()) >= 6 for reason in reasons), rule


def test_cdk_nag_fails_synthesis_on_an_unacknowledged_finding() -> None:
    """The gate is live: a finding nobody acknowledged stops synthesis."""
    app = App()
    stack = Stack(app, "Probe")
    s3.Bucket(stack, "Unlogged")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(Exception, match="AwsSolutions-S1"):
        app.synth()


def test_report_script_prints_the_figures(example: Synthesized, capsys: pytest.CaptureFixture[str]) -> None:
    from infrastructure import report

    assert report.main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"stack airflow-stack: {len(example.template['Resources'])} resources")
    assert "AWS::ECS::Service" in out
    assert "cfn-lint: 0 errors" in out
    assert ", 0 failed, " in out.split("checkov:")[1]
    assert "cdk-nag AwsSolutions: 0 unacknowledged" in out


def test_report_script_refuses_an_invalid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infrastructure import report

    bad = tmp_path / "bad.yaml"
    bad.write_text("aws:\n  region: mars\n")
    assert report.main(["--config", str(bad)]) == 2
    assert "aws.region" in capsys.readouterr().err
