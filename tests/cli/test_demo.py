"""``harness demo``: its DPO stage without the TruthfulQA data (it trains on the rest and says so), and
its stages each in a process of their own."""

from __future__ import annotations

import json
from pathlib import Path

from harness.cli.demo import DPO_RECIPE, available_data
from harness.sources.truthfulqa import DATA_ENV
from harness.training.recipes import load_recipe
from harness.training.run import load_data

ROOT = Path(__file__).resolve().parents[2]


def test_missing_truthfulqa_is_left_out_with_a_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "nowhere"))
    recipe = load_recipe(ROOT / DPO_RECIPE)
    trimmed = available_data(recipe)
    assert "truthfulqa-train" not in [shown for shown, _, _ in trimmed.data_items()]
    assert len(trimmed.data) == len(recipe.data) - 1
    assert "leaves out truthfulqa-train" in capsys.readouterr().err
    assert len(load_data(trimmed)) == len(trimmed.data)  # the rest still loads, paths relative to the recipe


def test_present_truthfulqa_is_kept(tmp_path, monkeypatch, capsys):
    row = {"type": "Adversarial", "category": "Misc", "question": "Is the sky green?", "best_answer": "No",
           "correct_answers": ["No"], "incorrect_answers": ["Yes"], "source": "x"}
    (tmp_path / "generation.jsonl").write_text("\n".join(json.dumps({**row, "question": f"Q{i}?"}) for i in range(4)))
    mc = {"question": "Q?", "mc1_targets": {"choices": ["a", "b"], "labels": [1, 0]},
          "mc2_targets": {"choices": ["a", "b"], "labels": [1, 0]}}
    (tmp_path / "multiple_choice.jsonl").write_text(json.dumps(mc))
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    recipe = load_recipe(ROOT / DPO_RECIPE)
    assert available_data(recipe) is recipe
    assert capsys.readouterr().err == ""


def test_each_stage_runs_in_a_process_of_its_own(capsys):
    import os

    from harness.cli.demo import Stages

    stages = Stages()
    first, second = stages.run("1/2 one", os.getpid), stages.run("2/2 two", os.getpid)
    assert os.getpid() not in (first, second) and first != second  # nothing a stage leaves stays for the next
    assert list(stages.seconds) == ["1/2 one", "2/2 two"]
    assert "=== 1/2 one ===" in capsys.readouterr().out
