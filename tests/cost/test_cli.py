"""`ecsflow cost`: outputs, plot, and bad input as one line with a non-zero exit.

Most tests swap the in-process synth for the session's synthesized default template (the synth
itself is exercised by test_sensitivity.py and test_readme.py) and record the settings the
command would have synthesized, so the overrides are checked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy_airflow_on_ecs_fargate.config import Settings
from deploy_airflow_on_ecs_fargate.cost.estimate import estimate
from deploy_airflow_on_ecs_fargate.cost.price_table import load_price_table
from deploy_airflow_on_ecs_fargate.cost.template_reader import read_template

from .conftest import run_cost as _run


def test_json_output_and_plot(
    clean_env: Path, synthesized: list[Settings], default_template: dict, tmp_path: Path
) -> None:
    png = tmp_path / "cost.png"
    result = _run("--config", str(clean_env), "--task-hours-per-day", "48", "--output", "json", "--plot", str(png))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout holds only the JSON
    expected = estimate(read_template(default_template), load_price_table(), "us-east-1", Settings().cost, 48)
    assert data["total"] == {"idle": round(expected.idle_total, 2), "workload": round(expected.workload_total, 2)}
    assert data["region"] == "us-east-1" and data["task_hours_per_day"] == 48
    assert [item["environment_class"] for item in data["mwaa"]["workload"]] == ["mw1.small", "mw1.medium", "mw1.large"]
    assert sum(item["workload"] for item in data["components"]) == pytest.approx(data["total"]["workload"], abs=0.05)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 20_000
    assert "plot written to" in result.stderr
    assert len(synthesized) == 1


def test_table_output(clean_env: Path, synthesized: list[Settings]) -> None:
    result = _run("--config", str(clean_env))
    assert result.exit_code == 0, result.stderr
    for text in ("Fargate: api-server", "Total", "MWAA mw1.small", "This stack: $"):
        assert text in result.stdout


def test_worker_size_and_region_reach_the_synthesized_settings(clean_env: Path, synthesized: list[Settings]) -> None:
    result = _run(
        "--config",
        str(clean_env),
        "--worker-cpu",
        "2048",
        "--worker-memory",
        "8192",
        "--region",
        "us-west-2",
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    [settings] = synthesized
    assert (settings.worker_pools[0].cpu, settings.worker_pools[0].memory_mib) == (2048, 8192)
    assert settings.aws.region == "us-west-2"
    assert json.loads(result.stdout)["region"] == "us-west-2"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "eu-west-1"], "no prices for region eu-west-1 in the price table (known: us-east-1"),
        (["--region", "Mars"], "'Mars' is not an AWS region name"),
        (["--worker-memory", "100"], "worker size: memory_mib 100 is not valid with cpu 1024"),
        (["--worker-cpu", "333"], "worker size: cpu 333 is not a Fargate size"),
        (["--pool", "nope"], "no worker pool named 'nope'"),
        (["--plot", "cost.jpg"], "--plot writes a PNG file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    clean_env: Path, synthesized: list[Settings], args: list[str], message: str
) -> None:
    result = _run("--config", str(clean_env), *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"ecsflow: {message}")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert synthesized == []  # refused before spending seconds on a synth


def test_an_invalid_config_is_reported_not_raised(clean_env: Path, synthesized: list[Settings]) -> None:
    clean_env.write_text("aws:\n  nat_gateways: lots\n")
    result = _run("--config", str(clean_env))
    assert result.exit_code == 2
    assert "invalid configuration" in result.stderr and "nat_gateways" in result.stderr


def test_the_plot_cannot_be_written(clean_env: Path, synthesized: list[Settings], tmp_path: Path) -> None:
    result = _run("--config", str(clean_env), "--plot", str(tmp_path / "missing" / "dir" / "cost.png"))
    assert result.exit_code == 1
    assert result.stderr.startswith("ecsflow: cannot write")


def test_the_default_workload_comes_from_the_config(clean_env: Path, synthesized: list[Settings]) -> None:
    clean_env.write_text("cost:\n  task_hours_per_day: 10\n")
    result = _run("--config", str(clean_env), "-o", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["task_hours_per_day"] == 10
    assert data["worker_hours_per_day"] == pytest.approx(10 / (8 * 0.75), abs=1e-3)
