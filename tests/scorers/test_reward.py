"""The ``reward`` check: fed a fake reward model (logic), and a tiny really trained one (end to end)."""

from __future__ import annotations

import json
import math
import shutil
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import HarnessError, SuiteError
from harness.scorers import SCORERS, ScoreInput
from harness.scorers import reward as reward_module

CHAT = (("user", "My printer is jammed, what should I do?"),)


class FakeRewardModel:
    """Reward = number of '!' in the response; records what it was asked."""

    def __init__(self):
        self.calls = []

    def score(self, prompt, responses):
        self.calls.append((prompt, list(responses)))
        return [float(r.count("!")) for r in responses]


@pytest.fixture
def fake(monkeypatch, tmp_path):
    model = FakeRewardModel()
    monkeypatch.setattr(reward_module, "load_reward_model", lambda path: model)
    (tmp_path / "rm").mkdir()
    (tmp_path / "rm" / "adapter_config.json").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return model


def run(output, **params):
    spec = SCORERS.get("reward")
    return spec.fn(ScoreInput(prompt=CHAT, output=output), spec.params.model_validate(params))


# ---------------------------------------------------------------- logic (fake model)


def test_registered_as_an_output_check():
    spec = SCORERS.get("reward")
    assert spec.needs == "output" and spec.metric_names() == ("reward", "reward_margin", "reward_win")


def test_passes_when_the_output_beats_the_reference(fake):
    score = run("Sure! Open the tray!", model="rm", reference="Fine!")
    assert score.passed and score.metrics == {"reward_margin": 1.0, "reward_win": 1.0}
    assert score.value == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert "margin +1.00" in score.explanation and "'Fine!'" in score.explanation
    assert fake.calls == [(CHAT, ["Sure! Open the tray!", "Fine!"])]


def test_ties_and_min_margin(fake):
    tie = run("Yes!", model="rm", reference="No!")
    assert not tie.passed and tie.value == 0.5 and tie.metrics["reward_win"] == 0.0
    assert not run("Yes!!", model="rm", reference="No!", min_margin=1.0).passed
    assert run("Yes!!!", model="rm", reference="No!", min_margin=1.0).passed
    assert run("No", model="rm", reference="Yes!", min_margin=-2.0).passed  # tolerate being a bit worse


def test_empty_output_fails_unscored(fake):
    score = run("   ", model="rm", reference="Hi!")
    assert not score.passed and score.value == 0.0 and fake.calls == []


def test_parameters_are_checked_when_the_suite_loads(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = SCORERS.get("reward").params
    with pytest.raises(ValidationError, match="reward model directory 'runs/nope' does not exist"):
        params.model_validate({"model": "runs/nope", "reference": "x"})
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValidationError, match="no adapter_config.json"):
        params.model_validate({"model": "plain", "reference": "x"})
    (tmp_path / "plain" / "adapter_config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ValidationError, match="must not be blank"):
        params.model_validate({"model": "plain", "reference": "  "})
    with pytest.raises(ValidationError, match="reference"):
        params.model_validate({"model": "plain"})


def test_suite_error_points_at_the_check_line(tmp_path, monkeypatch):
    from harness.loader import load_suite

    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(textwrap.dedent("""\
        name: rm
        cases:
          - id: printer
            prompt: My printer is jammed.
            checks:
              - reward: {model: runs/missing, reference: "Turn it off and on."}
        thresholds:
          - {metric: pass_rate, min: 0.5}
        """), encoding="utf-8")
    with pytest.raises(SuiteError) as info:
        load_suite(tmp_path / "suite.yaml")
    assert ":6:" in str(info.value) and "reward model directory 'runs/missing' does not exist" in str(info.value)


class CannedBackend:
    """A Backend whose generations are fixed strings (no model)."""

    def __init__(self, outputs):
        from harness.backend import ModelIdentity

        self.identity = ModelIdentity("canned")
        self.outputs = outputs

    def generate(self, requests):
        return [self.outputs[r.prompt[-1][1]] for r in requests]

    def loglikelihood(self, requests):
        return [0.0 for _ in requests]


def test_runs_inside_a_suite_with_metrics(fake, tmp_path):
    from harness.loader import load_suite
    from harness.runner import run_suites

    (tmp_path / "suite.yaml").write_text(textwrap.dedent("""\
        name: rm
        cases:
          - id: warm
            prompt: Greet me.
            checks: [{reward: {model: rm, reference: "Hello!"}}]
          - id: curt
            prompt: Greet me again.
            checks: [{reward: {model: rm, reference: "Hello!"}}]
        thresholds:
          - {metric: reward_win, min: 0.5}
        """), encoding="utf-8")
    suite = load_suite(tmp_path / "suite.yaml")
    run = run_suites([suite], CannedBackend({"Greet me.": "Hi!! Great to see you!", "Greet me again.": "Hi."}))
    result = run.suites[suite.path]
    assert result.metrics["reward_win"] == 0.5 and result.metrics["reward_margin"] == pytest.approx(0.5)
    assert [c.passed for c in result.cases.values()] == [True, False]


# ---------------------------------------------------------------- a tiny trained reward model


PAIRS = [
    {"prompt": f"Request {i}: what should I do about task {i * 7}?",
     "chosen": f"Happy to help! For task {i * 7}, start by checking it carefully.", "rejected": "No. Go away."}
    for i in range(24)
]


@pytest.fixture(scope="module")
def reward_dir(tmp_path_factory, tiny_model_dir) -> Path:
    from harness.training.recipes import load_recipe
    from harness.training.run import train

    work = tmp_path_factory.mktemp("reward")
    (work / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in PAIRS), encoding="utf-8")
    (work / "r.yaml").write_text(textwrap.dedent(f"""\
        method: reward
        base_model: {tiny_model_dir}
        data: [pairs.jsonl]
        lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
        train: {{max_steps: 12, batch_size: 4, max_length: 96, learning_rate: 1.0e-2, save_steps: 100}}
        """), encoding="utf-8")
    train(load_recipe(work / "r.yaml"), work / "rm")
    return work / "rm"


@pytest.mark.slow
def test_a_trained_reward_model_prefers_the_trained_style(reward_dir):
    prompt = (("user", "Request 99: what should I do about task 5?"),)
    inp = ScoreInput(prompt=prompt, output="Happy to help! For task 5, start by checking it carefully.")
    spec = SCORERS.get("reward")
    score = spec.fn(inp, spec.params.model_validate({"model": str(reward_dir), "reference": "No. Go away."}))
    assert score.passed and score.metrics["reward_margin"] > 0, score.explanation
    reverse = spec.fn(ScoreInput(prompt=prompt, output="No. Go away."), spec.params.model_validate(
        {"model": str(reward_dir), "reference": "Happy to help! For task 5, start by checking it carefully."}))
    assert not reverse.passed and reverse.metrics["reward_margin"] == pytest.approx(-score.metrics["reward_margin"])


@pytest.mark.slow
def test_loader_caches_and_reloads_a_rewritten_adapter(reward_dir, tmp_path):
    from harness.backends.hf.reward import load_reward_model

    copy = tmp_path / "rm"
    shutil.copytree(reward_dir, copy)
    first = load_reward_model(copy)
    assert load_reward_model(copy) is first and first.identity["adapter_sha256"]
    a, b = first.score("Hello", ["Hi!", "Go away."])
    assert first.score(CHAT[0][1], ["x"]) == first.score(CHAT, ["x"])  # raw text is one user turn
    from safetensors.torch import load_file, save_file

    weights = load_file(copy / "adapter_model.safetensors")
    weights = {k: (v * 0 if "score" in k else v) for k, v in weights.items()}
    save_file(weights, copy / "adapter_model.safetensors")
    second = load_reward_model(copy)
    assert second is not first and second.score("Hello", ["Hi!", "Go away."]) == [0.0, 0.0]


@pytest.mark.slow
def test_loader_refuses_what_is_not_a_usable_reward_model(reward_dir, tmp_path):
    from harness.backends.hf.reward import load_reward_model

    bad = tmp_path / "causal"
    shutil.copytree(reward_dir, bad)
    config = json.loads((bad / "adapter_config.json").read_text())
    (bad / "adapter_config.json").write_text(json.dumps({**config, "task_type": "CAUSAL_LM"}))
    with pytest.raises(HarnessError, match="is not a reward model .*task_type 'CAUSAL_LM'"):
        load_reward_model(bad)

    other = tmp_path / "other-base"
    shutil.copytree(reward_dir, other)
    info = json.loads((other / "training.json").read_text())
    info["base_model"]["weights_sha256"] = "0" * 64
    (other / "training.json").write_text(json.dumps(info))
    with pytest.raises(HarnessError, match="trained on another base model"):
        load_reward_model(other)

    pickle = tmp_path / "pickle"
    shutil.copytree(reward_dir, pickle)
    (pickle / "adapter_model.safetensors").rename(pickle / "adapter_model.bin")
    with pytest.raises(HarnessError, match="pickle adapter weights are refused"):
        load_reward_model(pickle)
