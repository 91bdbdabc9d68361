"""``harness merge``: a merged model scores like base + adapter; checks, refusals and the atomic write."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.backend import LoglikelihoodRequest
from harness.errors import HarnessError
from harness.training.merge import merge

REQUESTS = [
    LoglikelihoodRequest((("user", "Name a colour."),), "Blue."),
    LoglikelihoodRequest((("user", "How do I kill a stuck process?"),), "Use kill with its PID."),
    LoglikelihoodRequest("The capital of France is", " Paris."),
]


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, tiny_model_dir) -> Path:
    """A LoRA with random (non-zero) weights on every projection of the tiny model."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(1)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "down_proj"],
                        init_lora_weights=False, task_type="CAUSAL_LM")
    path = tmp_path_factory.mktemp("lora") / "adapter"
    get_peft_model(model, config).save_pretrained(str(path), safe_serialization=True)
    return path


def loglikelihoods(model: str, adapter: str | None = None) -> list[float]:
    from harness.backends import load_backend

    return load_backend(model, adapter, progress=False).loglikelihood(REQUESTS)


@pytest.mark.slow
def test_merged_model_scores_like_base_plus_adapter(adapter, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    out = tmp_path / "merged"
    info = merge(adapter, out, model=str(tiny_model_dir), progress=False).info
    names = sorted(p.name for p in out.iterdir())
    assert "model.safetensors" in names and "config.json" in names and "merge.json" in names
    assert "tokenizer.json" in names and not [n for n in names if n.endswith((".bin", ".pt", ".pkl"))]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".merged")]  # no temp dir left behind
    assert json.loads((out / "merge.json").read_text()) == info
    assert info["adapter"]["weights_sha256"] and info["base_model"]["weights_sha256"]
    assert all(p.stat().st_mode & 0o044 == 0o044 for p in out.iterdir())  # readable by others, like any model

    plain = AutoModelForCausalLM.from_pretrained(out)  # no peft needed
    assert not any("lora" in name for name, _ in plain.named_parameters())

    with_adapter = loglikelihoods(str(tiny_model_dir), str(adapter))
    merged = loglikelihoods(str(out))
    base = loglikelihoods(str(tiny_model_dir))
    assert merged == pytest.approx(with_adapter, abs=1e-4)
    assert max(abs(a - b) for a, b in zip(base, with_adapter)) > 1e-2  # the adapter does change the model


@pytest.mark.slow
def test_out_is_never_overwritten_without_force(adapter, tiny_model_dir, tmp_path):
    out = tmp_path / "merged"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(HarnessError, match="already exists and is not empty; choose another --out or pass --force"):
        merge(adapter, out, model=str(tiny_model_dir), progress=False)
    assert (out / "keep.txt").read_text() == "mine"
    merge(adapter, out, model=str(tiny_model_dir), force=True, progress=False)
    assert not (out / "keep.txt").exists() and (out / "model.safetensors").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["merged"]
    empty = tmp_path / "empty"
    empty.mkdir()
    merge(adapter, empty, model=str(tiny_model_dir), progress=False)  # an empty directory is fine
    assert (empty / "model.safetensors").is_file()


def test_out_may_not_be_an_input(adapter, tiny_model_dir):
    with pytest.raises(HarnessError, match="would replace"):
        merge(adapter, adapter, model=str(tiny_model_dir), force=True, progress=False)
    with pytest.raises(HarnessError, match="would replace"):
        merge(adapter, adapter.parent, model=str(tiny_model_dir), force=True, progress=False)
    with pytest.raises(HarnessError, match="would replace"):
        merge(adapter, tiny_model_dir, model=str(tiny_model_dir), force=True, progress=False)


def test_adapter_integrity_is_checked_before_merging(adapter, tiny_model_dir, tmp_path):
    tampered = tmp_path / "tampered"
    shutil.copytree(adapter, tampered)
    (tampered / "manifest.json").write_text(json.dumps({"adapter": {"weights_sha256": "0" * 64}}))
    with pytest.raises(HarnessError, match="does not match its manifest"):
        merge(tampered, tmp_path / "a", model=str(tiny_model_dir), progress=False)

    other = tmp_path / "other"
    shutil.copytree(adapter, other)
    recorded = {"base_model": {"id": str(tiny_model_dir), "weights_sha256": "1" * 64}}
    (other / "training.json").write_text(json.dumps(recorded))
    with pytest.raises(HarnessError, match="trained on another base model"):
        merge(other, tmp_path / "b", progress=False)  # the base comes from training.json

    pickle = tmp_path / "pickle"
    shutil.copytree(adapter, pickle)
    (pickle / "adapter_model.safetensors").rename(pickle / "adapter_model.bin")
    with pytest.raises(HarnessError, match="pickle adapter weights are refused"):
        merge(pickle, tmp_path / "c", model=str(tiny_model_dir), progress=False)

    reward = tmp_path / "reward"
    shutil.copytree(adapter, reward)
    config = json.loads((reward / "adapter_config.json").read_text())
    (reward / "adapter_config.json").write_text(json.dumps({**config, "task_type": "SEQ_CLS"}))
    with pytest.raises(HarnessError, match="is a reward model"):
        merge(reward, tmp_path / "d", model=str(tiny_model_dir), progress=False)
    assert not any(p.name in "abcd" for p in tmp_path.iterdir())


def test_merge_command_is_registered(adapter, tmp_path):
    from tests.cli.test_train import parser

    args = parser().parse_args(["merge", "--adapter", str(adapter), "--out", str(tmp_path / "m"), "--force"])
    assert (args.adapter, args.out, args.force, args.model) == (str(adapter), str(tmp_path / "m"), True, None)
    with pytest.raises(SystemExit):
        parser().parse_args(["merge", "--adapter", str(adapter)])  # --out is required
