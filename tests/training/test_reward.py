"""Reward-model recipes: validation, the held-out split, and a real (tiny) RewardTrainer run."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from harness.errors import HarnessError, SuiteError
from harness.training.recipes import Recipe, load_recipe
from harness.training.reward import split_heldout
from harness.training_data import read_data_file

from .conftest import write_jsonl

# A signal a tiny random model can learn in a few steps: chosen answers are warm, rejected ones curt.
# Each prompt appears twice (two answer styles), so a row-level split would leak prompts.
PAIRS = [
    row
    for i in range(20)
    for row in (
        {"prompt": f"Request {i}: what should I do about task {i * 7}?",
         "chosen": f"Happy to help! For task {i * 7}, start by checking it carefully.", "rejected": "No. Go away."},
        {"prompt": f"Request {i}: what should I do about task {i * 7}?",
         "good": f"Glad you asked! Task {i * 7} is easier in small steps.", "bad": "Not my problem."},
    )
]


def write_pairs(directory: Path) -> None:
    write_jsonl(directory / "pairs.jsonl", [r for r in PAIRS if "chosen" in r])
    write_jsonl(directory / "goodbad.jsonl", [r for r in PAIRS if "good" in r])


def reward_recipe(directory: Path, base: str, extra: str = "", name: str = "reward.yaml"):
    write_pairs(directory)
    path = directory / name
    path.write_text(textwrap.dedent(f"""\
        name: tiny-reward
        method: reward
        base_model: {base}
        data: [pairs.jsonl, goodbad.jsonl]
        lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
        train: {{max_steps: 16, batch_size: 4, max_length: 96, learning_rate: 1.0e-2, save_steps: 100}}
        """) + extra, encoding="utf-8")
    return load_recipe(path)


def error_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "r.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(SuiteError) as info:
        load_recipe(path)
    return str(info.value)


# ---------------------------------------------------------------- recipe validation


def test_reward_defaults_and_as_dict():
    r = Recipe.model_validate({"method": "reward", "data": ["p.jsonl"]})
    assert r.learning_rate == 2e-4 and r.reward_or_default.heldout_fraction == 0.2
    assert r.as_dict()["reward"] == {"heldout_fraction": 0.2, "center_rewards": None}
    assert r.peft_config().task_type == "SEQ_CLS"
    assert Recipe.model_validate({"method": "sft", "data": ["p.jsonl"]}).peft_config().task_type == "CAUSAL_LM"


def test_bad_reward_configs_are_located(tmp_path):
    base = "method: reward\ndata: [p.jsonl]\n"
    assert ":3: reward.heldout_fraction: Input should be less than 1" in error_of(
        tmp_path, base + "reward: {heldout_fraction: 1.0}\n")
    message = error_of(tmp_path, base + "reward:\n  heldout_fration: 0.1\n")
    assert ":4: reward.heldout_fration: unknown field 'heldout_fration' — did you mean 'heldout_fraction'?" in message
    assert "'reward' settings need 'method: reward'" in error_of(
        tmp_path, "method: dpo\ndata: [p.jsonl]\nreward: {heldout_fraction: 0.1}\n")
    message = error_of(tmp_path, base + "init_adapter: runs/sft\n")
    assert "'init_adapter' is not supported with 'method: reward'" in message
    message = error_of(tmp_path, base + "train: {group_by_length: true}\n")
    assert "train.group_by_length is for 'method: sft' only" in message
    assert "(got 'rm')" in error_of(tmp_path, "method: rm\ndata: [p.jsonl]\n")


def test_sft_data_is_refused_for_a_reward_recipe(data_dir):
    from harness.training.run import train
    from harness.training_data import DataError

    (data_dir / "r.yaml").write_text("method: reward\ndata: [sft.jsonl]\n", encoding="utf-8")
    with pytest.raises(DataError, match="'prompt_response' rows are sft data but the recipe is 'method: reward'"):
        train(load_recipe(data_dir / "r.yaml"), data_dir / "out")


@pytest.mark.slow
def test_reward_config_maps_onto_trl(tmp_path):
    from trl import RewardConfig

    r = Recipe.model_validate({"method": "reward", "data": ["p.jsonl"], "reward": {"center_rewards": 0.01},
                               "train": {"max_length": 128}})
    args = r.trainer_args(tmp_path / "ckpt", max_steps=3)
    assert isinstance(args, RewardConfig)
    assert (args.max_steps, args.max_length, args.learning_rate) == (3, 128, 2e-4)
    assert args.center_rewards_coefficient == 0.01
    assert args.bf16 is False and args.use_cpu is True and args.gradient_checkpointing is False
    assert args.train_sampling_strategy == "random"


# ---------------------------------------------------------------- held-out split


def test_split_keeps_prompts_together_and_is_deterministic(tmp_path):
    write_pairs(tmp_path)
    files = [read_data_file(tmp_path / "pairs.jsonl"), read_data_file(tmp_path / "goodbad.jsonl")]
    split = split_heldout(files, 0.2, seed=3)
    held = {r["prompt"][0]["content"] for r in split.heldout}
    trained = {r["prompt"][0]["content"] for f in split.train for r in f.rows}
    assert len(split.heldout) == 8 and split.heldout_prompts == 4 and not held & trained
    assert sum(len(f.rows) for f in split.train) == 32
    assert all(len(f.rows) == len(f.lines) for f in split.train)
    again = split_heldout(files, 0.2, seed=3)
    assert again.heldout == split.heldout
    assert split_heldout(files, 0.2, seed=4).heldout != split.heldout
    assert split_heldout(files, 0.0, seed=3).heldout == []


def test_split_needs_two_prompts(tmp_path):
    write_jsonl(tmp_path / "one.jsonl", [PAIRS[0]])
    with pytest.raises(HarnessError, match="at least two different prompts"):
        split_heldout([read_data_file(tmp_path / "one.jsonl")], 0.2, seed=0)


# ---------------------------------------------------------------- a real RewardTrainer run


@pytest.mark.slow
def test_train_reward_model_reports_heldout_accuracy(tmp_path, tiny_base, capsys):
    from harness.backends.hf.reward import load_reward_model
    from harness.training.run import train

    recipe = reward_recipe(tmp_path, str(tiny_base))
    out = tmp_path / "rm"
    info = train(recipe, out).info
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "training.json"]
    assert json.loads((out / "adapter_config.json").read_text())["task_type"] == "SEQ_CLS"
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in out.iterdir())  # readable by others
    assert info["method"] == "reward" and info["global_step"] == 16 and info["rows_dropped_too_long"] == 0
    held = info["heldout"]
    assert held["pairs"] == 8 and held["prompts"] == 4 and held["fraction"] == 0.2
    assert held["accuracy"] >= 0.75, held  # the warm-vs-curt signal generalises to unseen prompts
    assert json.loads((out / "training.json").read_text())["heldout"] == held
    assert "held-out pairwise accuracy" in capsys.readouterr().err

    # The scorer's loader gives the same rewards as the evaluation right after training.
    model = load_reward_model(out)
    split = split_heldout([read_data_file(tmp_path / "pairs.jsonl"), read_data_file(tmp_path / "goodbad.jsonl")],
                          0.2, seed=0)
    margins = []
    for row in split.heldout:
        prompt = tuple((m["role"], m["content"]) for m in row["prompt"])
        chosen, rejected = model.score(prompt, [row["chosen"][0]["content"], row["rejected"][0]["content"]])
        margins.append(chosen - rejected)
    assert sum(m > 0 for m in margins) / len(margins) == held["accuracy"]
    assert sum(margins) / len(margins) == pytest.approx(held["mean_margin"], abs=1e-3)


@pytest.mark.slow
def test_long_pairs_are_reported_as_dropped(tmp_path, tiny_base, capsys):
    from harness.training.run import train

    recipe = reward_recipe(tmp_path, str(tiny_base), "reward: {heldout_fraction: 0}\n")
    long_row = {"prompt": "Tell me a long story. " * 40, "chosen": "Once upon a time.", "rejected": "No."}
    write_jsonl(tmp_path / "pairs.jsonl", [*[r for r in PAIRS if "chosen" in r], long_row])
    info = train(recipe, tmp_path / "rm", max_steps=1).info
    assert info["rows_dropped_too_long"] == 1 and "heldout" in info and info["heldout"]["pairs"] == 0
    assert "1 training rows are longer than train.max_length=96" in capsys.readouterr().err
