"""Real (tiny) training runs: SFT and DPO adapters that load and change the model; atomic output; resume."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.training.recipes import load_recipe
from harness.training.run import load_data, train
from harness.training_data import DataError

TINY_TRAIN = "train: {max_steps: 2, batch_size: 2, max_length: 48, learning_rate: 5.0e-3, save_steps: 1, logging_steps: 1}"


def recipe(directory: Path, body: str, name: str = "recipe.yaml"):
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return load_recipe(path)


def sft_recipe(directory: Path, base: str = "embedded"):
    return recipe(directory, f"""\
        method: sft
        base_model: {base}
        data: [sft.jsonl]
        lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
        {TINY_TRAIN}
        """, "sft.yaml")


def logits(model_dir: Path, adapter: Path | None = None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter))
    text = tokenizer.apply_chat_template([{"role": "user", "content": "How do I pick a lock?"}], tokenize=False,
                                         add_generation_prompt=True)
    with torch.no_grad():
        return model(**tokenizer(text, return_tensors="pt")).logits[0, -1]


def no_leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}.tmp") or p.name == name)


@pytest.mark.slow
def test_sft_then_dpo_on_the_embedded_model(data_dir, embedded_dir):
    sft_out = data_dir / "adapters" / "sft"
    result = train(sft_recipe(data_dir), sft_out)
    assert sorted(p.name for p in sft_out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors", "training.json"]
    info = json.loads((sft_out / "training.json").read_text())
    assert info == result.info and info["method"] == "sft" and info["global_step"] == 2
    assert info["base_model"]["id"] == "embedded" and len(info["base_model"]["weights_sha256"]) == 64
    assert info["data"][0]["rows"] == 4 and len(info["data"][0]["sha256"]) == 64
    assert set(info["versions"]) >= {"transformers", "peft", "trl", "torch"} and info["seed"] == 0
    assert info["recipe"]["lora"]["r"] == 4 and "train_loss" in info["metrics"]
    assert not (data_dir / "adapters" / ".sft.checkpoints").exists()  # removed after a finished run

    base = logits(embedded_dir)
    after_sft = logits(embedded_dir, sft_out)
    assert not base.allclose(after_sft, atol=1e-4)  # the adapter really changes the model

    dpo = recipe(data_dir, f"""\
        method: dpo
        data: [pref.jsonl]
        init_adapter: adapters/sft
        dpo: {{beta: 0.1}}
        {TINY_TRAIN}
        """, "dpo.yaml")
    dpo_out = data_dir / "adapters" / "dpo"
    info = train(dpo, dpo_out).info
    assert info["method"] == "dpo" and info["init_adapter"]["adapter_sha256"] == json.loads(
        (sft_out / "training.json").read_text())["adapter_sha256"]
    assert json.loads((dpo_out / "adapter_config.json").read_text())["r"] == 4  # continues the SFT adapter
    assert not (dpo_out / "ref").exists()  # TRL's frozen reference copy is not part of the adapter
    after_dpo = logits(embedded_dir, dpo_out)
    assert not after_dpo.allclose(after_sft, atol=1e-5)


class Boom(Exception):
    pass


def exploding_callback(at_step: int):
    from transformers import TrainerCallback

    class Explode(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == at_step:
                raise Boom(f"injected failure at step {at_step}")

    return Explode()


@pytest.mark.slow
def test_interrupted_run_leaves_nothing_at_out_and_resumes(data_dir, tiny_base):
    r = sft_recipe(data_dir, base=str(tiny_base))
    out = data_dir / "adapters" / "run"
    with pytest.raises(Boom):
        train(r, out, callbacks=[exploding_callback(2)])
    assert no_leftovers(out.parent, "run") == []  # no adapter, no half-written temp dir
    checkpoints = out.parent / ".run.checkpoints"
    assert (checkpoints / "checkpoint-1").is_dir()

    with pytest.raises(HarnessError, match="pass --resume to continue"):
        train(r, out)
    with pytest.raises(HarnessError, match="different recipe"):
        train(r, out, resume=True, max_steps=5)

    # what a kill -9 while saving step 2 leaves: the folder, a truncated weights file, no trainer state
    partial = checkpoints / "checkpoint-2"
    shutil.copytree(checkpoints / "checkpoint-1", partial)
    weights = next(partial.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    (partial / "trainer_state.json").unlink()
    complete_before = sorted((p.name, p.read_bytes()) for p in (checkpoints / "checkpoint-1").iterdir() if p.is_file())

    from harness.training.checkpoints import prepare_checkpoints
    stamp = json.loads((checkpoints / "harness-recipe.json").read_text())
    assert prepare_checkpoints(checkpoints, stamp, resume=True).endswith("checkpoint-1")
    assert not partial.exists()  # skipped and removed; the complete checkpoint is untouched
    assert sorted((p.name, p.read_bytes()) for p in (checkpoints / "checkpoint-1").iterdir()
                  if p.is_file()) == complete_before

    info = train(r, out, resume=True).info
    assert info["resumed_from"].endswith("checkpoint-1") and info["global_step"] == 2
    assert (out / "adapter_model.safetensors").is_file() and not checkpoints.exists()
    assert no_leftovers(out.parent, "run") == ["run"]

    with pytest.raises(HarnessError, match="already exists"):
        train(r, out)
    first = (out / "adapter_model.safetensors").read_bytes()
    train(r, out, overwrite=True, max_steps=1)
    assert (out / "adapter_model.safetensors").read_bytes() != first
    assert no_leftovers(out.parent, "run") == ["run"]


@pytest.mark.slow
def test_init_adapter_from_another_base_is_refused(data_dir, tiny_base):
    out = data_dir / "a"
    train(sft_recipe(data_dir, base=str(tiny_base)), out, max_steps=1)
    info = json.loads((out / "training.json").read_text())
    info["base_model"]["weights_sha256"] = "0" * 64
    (out / "training.json").write_text(json.dumps(info))
    dpo = recipe(data_dir, f"""\
        method: dpo
        base_model: {tiny_base}
        data: [pref.jsonl]
        init_adapter: a
        {TINY_TRAIN}
        """)
    with pytest.raises(HarnessError, match="trained on another base model"):
        train(dpo, data_dir / "b")
    assert not (data_dir / "b").exists()


def test_data_that_does_not_suit_the_method_is_refused_before_loading(data_dir):
    r = recipe(data_dir, "method: sft\ndata: [pref.jsonl]\n")
    with pytest.raises(DataError, match="'preference' rows are preference data but the recipe is 'method: sft'"):
        train(r, data_dir / "out")
    (data_dir / "text.jsonl").write_text('{"text": "Plain text."}\n', encoding="utf-8")
    r = recipe(data_dir, "method: sft\ndata: [sft.jsonl, text.jsonl]\n")
    with pytest.raises(HarnessError, match="cannot be mixed"):
        train(r, data_dir / "out")
    r = recipe(data_dir, "method: sft\nsft_on_chosen: true\ndata: [sft.jsonl, pref.jsonl]\n")
    files = load_data(r)  # preference rows teach their chosen answer
    assert [f.kind for f in files] == ["sft", "sft"] and files[1].chosen_only
    assert files[1].rows[0]["completion"] == [{"role": "assistant", "content": "I can't help with that."}]
    r = recipe(data_dir, "method: dpo\ndata: [pref.jsonl]\ninit_adapter: missing\n")
    with pytest.raises(HarnessError, match="no adapter at"):
        train(r, data_dir / "out")
    assert not (data_dir / "out").exists() and not (data_dir / ".out.checkpoints").exists()
    shutil.rmtree(data_dir / "text.jsonl", ignore_errors=True)


@pytest.mark.slow
def test_dpo_continuing_an_adapter_resumes_after_a_crash(data_dir, tiny_base):
    train(sft_recipe(data_dir, base=str(tiny_base)), data_dir / "sft", max_steps=1)
    dpo = recipe(data_dir, f"""\
        method: dpo
        base_model: {tiny_base}
        data: [pref.jsonl]
        init_adapter: sft
        train: {{max_steps: 3, batch_size: 1, max_length: 48, learning_rate: 1.0e-2, save_steps: 1}}
        """)
    with pytest.raises(Boom):
        train(dpo, data_dir / "dpo", callbacks=[exploding_callback(2)])
    assert no_leftovers(data_dir, "dpo") == []
    info = train(dpo, data_dir / "dpo", resume=True).info
    assert info["global_step"] == 3 and info["resumed_from"].endswith("checkpoint-1")
    assert sorted(p.name for p in (data_dir / "dpo").iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "training.json"]
