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


def test_the_demo_evaluates_and_gates_the_base_model_its_recipes_name(tmp_path, data_dir, tiny_base, monkeypatch, capsys):
    """Recipes on another base model: stage 1 and the gate evaluate that model, not the embedded one."""
    from harness.cli import main
    from tests.gate.conftest import ACCEPT_SUITE

    monkeypatch.chdir(tmp_path)  # the report goes to reports/demo.html under the working directory

    (tmp_path / "suite.yaml").write_text(ACCEPT_SUITE)
    lora = "lora: {r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}"
    (data_dir / "sft.yaml").write_text(f"method: sft\nbase_model: {tiny_base}\ndata: [sft.jsonl]\n{lora}\n"
                                       "train: {max_steps: 1, batch_size: 2, max_length: 64}\n")
    (data_dir / "dpo.yaml").write_text(f"method: dpo\nbase_model: {tiny_base}\ndata: [pref.jsonl]\n"
                                       "train: {max_steps: 1, batch_size: 1, max_length: 64}\n")
    monkeypatch.setenv("ADAPTER_HARNESS_STORE", str(tmp_path / "runs.sqlite3"))
    code = main(["demo", "--suites", str(tmp_path / "suite.yaml"), "--workdir", str(tmp_path / "work"),
                 "--registry", str(tmp_path / "adapters"), "--sft-recipe", str(data_dir / "sft.yaml"),
                 "--dpo-recipe", str(data_dir / "dpo.yaml")])
    assert code == 0
    base = json.loads((tmp_path / "work" / "base-results.json").read_text())
    adapter = json.loads((tmp_path / "work" / "adapter-results.json").read_text())
    assert base["model"]["model"] == str(tiny_base) and adapter["model"]["model"] == str(tiny_base)
    assert adapter["model"]["adapter"] == str(tmp_path / "work" / "dpo")
    assert "verdict: " in capsys.readouterr().out and (tmp_path / "reports" / "demo.html").is_file()


def test_128_rows_a_batch_only_on_the_embedded_model():
    from harness.cli.demo import default_batch_size

    assert default_batch_size(None) == 128  # the 135M model: every finance / politeness / refusal prompt at once
    assert default_batch_size("org/a-larger-model") == 32  # the backend's default


def test_the_demo_refuses_recipes_on_two_base_models(tmp_path):
    import pytest

    from harness.cli.demo import base_model_of
    from harness.errors import HarnessError
    from harness.training.recipes import Recipe

    sft = Recipe.model_validate({"method": "sft", "data": ["a.jsonl"]})
    dpo = Recipe.model_validate({"method": "dpo", "data": ["b.jsonl"], "base_model": "org/other"})
    assert base_model_of(sft, sft) is None  # the embedded model
    with pytest.raises(HarnessError, match="'embedded' and the DPO recipe on 'org/other'"):
        base_model_of(sft, dpo)
