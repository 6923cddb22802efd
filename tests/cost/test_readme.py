"""The README's Cost section is what `ecsflow cost` prints now for the default configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy_airflow_on_ecs_fargate.cost import readme
from deploy_airflow_on_ecs_fargate.cost.readme import current_block, render_block, replace_block

from .conftest import run_cost

FIX = "run: .venv/bin/python -m deploy_airflow_on_ecs_fargate.cost.readme"


def test_the_readme_block_is_current(default_template: dict[str, Any], lean_template: dict[str, Any]) -> None:
    block = current_block(readme.README.read_text(encoding="utf-8"))
    assert block == render_block(default_template, lean_template), f"the README's Cost section is stale; {FIX}"


def test_the_readme_block_holds_the_command_output(clean_env: Path, synthesized: list) -> None:
    result = run_cost("--config", str(clean_env), "--output", "markdown")
    assert result.exit_code == 0, result.stderr
    assert result.stdout in current_block(readme.README.read_text(encoding="utf-8")), f"stale README; {FIX}"


def test_replace_block_touches_only_the_marked_text() -> None:
    text = "# Title\n\n## Cost\n\n<!-- cost:start -->\nold\n<!-- cost:end -->\n\n## Next\n"
    assert (
        replace_block(text, "new\n") == "# Title\n\n## Cost\n\n<!-- cost:start -->\nnew\n<!-- cost:end -->\n\n## Next\n"
    )
    with pytest.raises(ValueError, match="exactly one"):
        replace_block("no markers", "new\n")


def test_check_mode_reports_a_stale_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readme, "render_block", lambda: "fresh\n")
    stale = tmp_path / "README.md"
    stale.write_text("<!-- cost:start -->\nold\n<!-- cost:end -->\n")
    assert readme.main(["--check", "--readme", str(stale)]) == 1
    assert readme.main(["--readme", str(stale)]) == 0
    assert stale.read_text() == "<!-- cost:start -->\nfresh\n<!-- cost:end -->\n"
    assert readme.main(["--check", "--readme", str(stale)]) == 0


def test_the_docs_name_every_cost_assumption() -> None:
    from deploy_airflow_on_ecs_fargate.config import CostConfig

    docs = (readme.REPO_ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    for name in CostConfig.model_fields:
        assert f"| `{name}` |" in docs, name
