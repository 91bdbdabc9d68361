"""The power check (issue: a gate that decides with statistics): every shipped allowance is one its suite can see."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from harness.cli import main
from harness.loader import load_suite
from harness.metrics import power_rows

SUITES = Path(__file__).resolve().parents[1] / "suites"


@pytest.mark.parametrize("name", ["refusals", "finance_advice", "politeness", "truthfulqa"])
def test_shipped_suites_pass_their_own_power_check(name):
    suite = load_suite(SUITES / f"{name}.yaml")
    if suite.skip_reason:
        pytest.skip(suite.skip_reason)
    weak = [row.describe() for row in power_rows(suite) if not row.checkable]
    assert not weak, weak


def test_validate_warns_when_an_allowance_is_below_what_the_suite_can_detect(tmp_path, capsys):
    (tmp_path / "s.yaml").write_text(
        "name: s\ncases:\n" + "".join(f"  - {{id: c{i}, prompt: p{i}, checks: [{{length: {{max_words: 9}}}}]}}\n" for i in range(25))
        + "thresholds:\n  - {metric: pass_rate, min: 0.5, max_regression: 0.1}\n")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 0
    out = capsys.readouterr().out
    # By hand: (1.6448536 + 0.8416212) * 0.5 / sqrt(25) = 0.2486.
    assert f"pass_rate: 25 cases can detect a drop of >= {2.4864748 * 0.5 / math.sqrt(25):.3f} at 80% power; " \
           "max_regression 0.1 cannot be checked" in out
    assert "1 regression allowance(s) below what their suite can detect" in out
