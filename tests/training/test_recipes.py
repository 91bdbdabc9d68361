"""Recipe YAML: validation errors at file:line, defaults, and the TRL / PEFT configs they map onto."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import SuiteError
from harness.training.recipes import Recipe, load_recipe

SFT = """\
name: tiny
method: sft
data:
  - data/a.jsonl
  - truthfulqa-train
  - truthfulqa-train: {max_rows: 5}
lora: {r: 4, alpha: 8, target_modules: [q_proj]}
train: {max_steps: 3, batch_size: 2, max_length: 64}
"""


def write(tmp_path: Path, text: str, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(SuiteError) as info:
        load_recipe(write(tmp_path, text))
    return str(info.value)


def test_valid_recipe_and_resolved_values(tmp_path):
    recipe = load_recipe(write(tmp_path, SFT))
    assert recipe.display_name == "tiny" and recipe.method == "sft"
    assert recipe.base_dir == tmp_path and recipe.resolve("data/a.jsonl") == tmp_path / "data" / "a.jsonl"
    assert recipe.data_items() == [
        ("data/a.jsonl", None, {}), ("truthfulqa-train", "truthfulqa-train", {}),
        ("truthfulqa-train", "truthfulqa-train", {"max_rows": 5}),
    ]
    assert recipe.learning_rate == 2e-4  # the SFT default
    assert recipe.as_dict()["lora"]["r"] == 4


def test_defaults_depend_on_method(tmp_path):
    dpo = Recipe.model_validate({"method": "dpo", "data": ["p.jsonl"]})
    assert dpo.learning_rate == 5e-5 and dpo.lora_or_default.r == 16
    assert dpo.as_dict()["dpo"]["beta"] == 0.1
    assert dpo.display_name == "dpo-adapter"


def test_unknown_field_has_line_and_hint(tmp_path):
    message = error_of(tmp_path, SFT.replace("lora: {r: 4,", "lora: {rank: 4,"))
    assert message.startswith(f"{tmp_path / 'recipe.yaml'}:7: lora.rank: unknown field 'rank'")
    assert "known:" in message
    message = error_of(tmp_path, SFT.replace("name: tiny", "name: tiny\nmethd: sft"))
    assert ":2: methd: unknown field 'methd' — did you mean 'method'?" in message


def test_wrong_values_are_located(tmp_path):
    message = error_of(tmp_path, SFT.replace("method: sft", "method: ppo"))
    assert ":2: method: Input should be 'sft', 'dpo' or 'reward' (got 'ppo')" in message
    message = error_of(tmp_path, SFT.replace("batch_size: 2", "batch_size: 0"))
    assert ":8: train.batch_size: Input should be greater than or equal to 1" in message


def test_missing_method_and_empty_data(tmp_path):
    message = error_of(tmp_path, "data: []\n")
    assert "recipe.yaml:1: data: List should have at least 1 item" in message
    assert "method: required field is missing; add it" in message


def test_bad_data_entries_point_at_their_line(tmp_path):
    message = error_of(tmp_path, SFT.replace("  - truthfulqa-train\n", "  - truthfulqa-trian: {}\n"))
    assert ":5: data[1]: unknown data source 'truthfulqa-trian' — did you mean 'truthfulqa-train'?" in message
    message = error_of(tmp_path, SFT.replace("{max_rows: 5}", "{max_row: 5}"))
    assert ":6: data[2]: truthfulqa-train: max_row: Extra inputs are not permitted" in message
    assert ":4: data[0]: a data entry is a JSONL path" in error_of(tmp_path, SFT.replace("- data/a.jsonl", "- 42"))


def test_inconsistent_sections(tmp_path):
    message = error_of(tmp_path, SFT + "dpo: {beta: 0.2}\n")
    assert "'dpo' settings need 'method: dpo'" in message
    message = error_of(tmp_path, "method: dpo\ndata: [p.jsonl]\ntrain: {group_by_length: true}\n")
    assert "train.group_by_length is for 'method: sft' only" in message
    message = error_of(tmp_path, "method: dpo\ndata: [p.jsonl]\nsft_on_chosen: true\n")
    assert "'sft_on_chosen' needs 'method: sft'" in message
    message = error_of(tmp_path, "method: dpo\ndata: [p.jsonl]\ntrain: {opening_tokens: 4, opening_weight: 10}\n")
    assert "opening_weight weight the SFT loss" in message
    assert "train.opening_weight: Input should be greater than 0" in error_of(
        tmp_path, SFT.replace("max_length: 64", "opening_weight: 0"))
    for half in ("opening_weight: 10", "opening_tokens: 4"):
        assert "opening_tokens and opening_weight go together" in error_of(tmp_path, SFT.replace("max_length: 64", half))
    message = error_of(tmp_path, SFT + "init_adapter: ../sft\n")
    assert "set either 'lora' (a new adapter) or 'init_adapter'" in message


def test_yaml_syntax_empty_file_and_non_mapping(tmp_path):
    assert error_of(tmp_path, "\n").endswith("recipe.yaml:1: the recipe file is empty; it needs at least 'method' and 'data'")
    assert "invalid YAML" in error_of(tmp_path, "method: sft\ndata: [a\n")
    assert "a recipe is a mapping" in error_of(tmp_path, "- just\n- a list\n")


@pytest.mark.slow
def test_maps_onto_trl_and_peft_configs(tmp_path):
    from peft import LoraConfig
    from trl import DPOConfig, SFTConfig

    recipe = load_recipe(write(tmp_path, SFT))
    args = recipe.trainer_args(tmp_path / "ckpt", max_steps=7)
    assert isinstance(args, SFTConfig)
    assert (args.max_steps, args.per_device_train_batch_size, args.max_length, args.learning_rate) == (7, 2, 64, 2e-4)
    assert args.bf16 is False and args.fp16 is False and args.use_cpu is True
    assert args.gradient_checkpointing is False and args.disable_tqdm is False
    assert args.save_strategy == "steps" and args.seed == 0
    assert args.train_sampling_strategy == "group_by_length"  # SFT default: less padding
    lora = recipe.lora_or_default.to_peft()
    assert isinstance(lora, LoraConfig) and lora.r == 4 and lora.lora_alpha == 8 and set(lora.target_modules) == {"q_proj"}

    dpo = Recipe.model_validate({"method": "dpo", "data": ["p.jsonl"], "dpo": {"beta": 0.3}, "train": {"epochs": 2}})
    args = dpo.trainer_args(tmp_path / "ckpt")
    assert isinstance(args, DPOConfig)
    assert args.beta == 0.3 and args.loss_type == ["sigmoid"] and args.max_steps == -1 and args.num_train_epochs == 2
    assert args.bf16 is False and args.use_cpu is True and args.train_sampling_strategy == "random"


def test_dpo_losses_combine_with_one_weight_each(tmp_path):
    rpo = Recipe.model_validate({"method": "dpo", "data": ["p.jsonl"],
                                 "dpo": {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0, 0.5]}})
    args = rpo.trainer_args(tmp_path / "ckpt")
    assert args.loss_type == ["sigmoid", "sft"] and args.loss_weights == [1.0, 0.5]
    with pytest.raises(ValidationError, match="loss_weights has 1 weights for 2 loss types"):
        Recipe.model_validate({"method": "dpo", "data": ["p.jsonl"],
                               "dpo": {"loss_type": ["sigmoid", "sft"], "loss_weights": [1.0]}})


def test_infinite_or_nan_settings_are_refused_with_their_line(tmp_path):
    message = error_of(tmp_path, SFT.replace("max_steps: 3,", "epochs: .inf,"))
    assert ":8: train.epochs: Input should be a finite number" in message
    message = error_of(tmp_path, SFT.replace("max_steps: 3,", "learning_rate: .nan,"))
    assert ":8: train.learning_rate: Input should be a finite number" in message


def test_a_recipe_extends_another_key_by_key(tmp_path):
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "data").mkdir()
    (tmp_path / "shipped" / "sft.yaml").write_text(
        "name: sft\nmethod: sft\nseed: 0\ndata: [data/a.jsonl, truthfulqa-train]\n"
        "lora: {r: 8, alpha: 16}\ntrain: {learning_rate: 1.0e-3, epochs: 3}\n")
    (tmp_path / "shipped" / "dpo.yaml").write_text("method: dpo\ndata: [data/b.jsonl]\ninit_adapter: ../runs/sft\n")
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "seed1.yaml").write_text("extends: ../shipped/sft.yaml\nname: seed1\nseed: 1\ntrain: {epochs: 2}\n")
    (tmp_path / "exp" / "again.yaml").write_text("extends: seed1.yaml\nlora: {r: 4}\n")
    r = load_recipe(tmp_path / "exp" / "seed1.yaml")
    assert (r.name, r.seed, r.train.epochs, r.train.learning_rate) == ("seed1", 1, 2, 1.0e-3)  # train merged key by key
    assert r.data == ["../shipped/data/a.jsonl", "truthfulqa-train"]  # the same file as before, seen from exp/
    assert r.resolve(r.data[0]).resolve() == (tmp_path / "shipped" / "data" / "a.jsonl").resolve()
    (tmp_path / "exp" / "dpo.yaml").write_text("extends: ../shipped/dpo.yaml\nseed: 2\n")
    dpo = load_recipe(tmp_path / "exp" / "dpo.yaml")
    assert (dpo.method, dpo.seed, dpo.init_adapter) == ("dpo", 2, "../runs/sft")  # shipped/../runs == exp/../runs
    again = load_recipe(tmp_path / "exp" / "again.yaml")  # a chain: again -> seed1 -> sft
    assert (again.name, again.seed, again.lora.r, again.lora.alpha) == ("seed1", 1, 4, 16)


@pytest.mark.parametrize("body, message", [
    ("extends: missing.yaml\n", "no recipe at"),
    ("extends: [a, b]\n", "give the path of the recipe"),
    ("extends: me.yaml\n", "a cycle"),
])
def test_bad_extends_is_a_located_error(tmp_path, body, message):
    (tmp_path / "me.yaml").write_text("name: me\n" + body)
    with pytest.raises(SuiteError, match=message) as info:
        load_recipe(tmp_path / "me.yaml")
    assert info.value.line == 2 and info.value.field == "extends"
