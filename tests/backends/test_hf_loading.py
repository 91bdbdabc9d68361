"""Loading models and adapters: identities, and one clear HarnessError per user mistake."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from harness.backend import Backend, GenerationRequest
from harness.backends import load_backend
from harness.errors import HarnessError

from .conftest import make_tiny_model, save_random_lora


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backend_implements_the_protocol(tiny_backend):
    assert isinstance(tiny_backend, Backend)


def test_identity_of_model_and_adapter(tiny_model_dir, lora_dir):
    backend = load_backend(str(tiny_model_dir), str(lora_dir), progress=False)
    identity = backend.identity
    assert identity.model == str(tiny_model_dir)
    assert identity.model_sha256 == sha256(tiny_model_dir / "model.safetensors")
    assert identity.adapter == str(lora_dir)
    assert identity.adapter_sha256 == sha256(lora_dir / "adapter_model.safetensors")
    assert identity.label() == f"{tiny_model_dir} + {lora_dir}"
    assert identity.details["peft"]
    # plain strings: a library's own version type (torch's TorchVersion) would make unpickling a
    # result (the demo hands results between stage processes) import that library
    assert {type(v) for v in identity.details.values()} == {str}


def test_missing_model_directory(tmp_path):
    with pytest.raises(HarnessError, match="neither an existing directory nor a Hugging Face hub id"):
        load_backend(str(tmp_path / "nowhere"), progress=False)


def test_directory_without_config(tmp_path):
    with pytest.raises(HarnessError, match="no config.json"):
        load_backend(str(tmp_path), progress=False)


def test_hub_id_while_offline(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HarnessError, match="not in the local Hugging Face cache"):
        load_backend("some-owner/some-model-that-is-not-cached", progress=False)


def test_pickle_only_model_is_refused(tmp_path, tiny_model_dir):
    target = tmp_path / "pickled"
    shutil.copytree(tiny_model_dir, target)
    (target / "model.safetensors").rename(target / "pytorch_model.bin")
    with pytest.raises(HarnessError, match="no .safetensors weights"):
        load_backend(str(target), progress=False)


def test_adapter_directory_problems(tmp_path, tiny_model_dir, lora_dir):
    with pytest.raises(HarnessError, match="does not exist"):
        load_backend(str(tiny_model_dir), str(tmp_path / "missing"), progress=False)
    with pytest.raises(HarnessError, match="no adapter_config.json"):
        load_backend(str(tiny_model_dir), str(tmp_path), progress=False)
    pickled = tmp_path / "pickled-adapter"
    shutil.copytree(lora_dir, pickled)
    (pickled / "adapter_model.safetensors").rename(pickled / "adapter_model.bin")
    with pytest.raises(HarnessError, match=r"adapter_model\.bin: pickle adapter weights are refused"):
        load_backend(str(tiny_model_dir), str(pickled), progress=False)


def test_reward_model_adapter_is_not_a_chat_adapter(tmp_path, tiny_model_dir, lora_dir):
    reward = tmp_path / "reward-lora"
    shutil.copytree(lora_dir, reward)
    config = json.loads((reward / "adapter_config.json").read_text())
    (reward / "adapter_config.json").write_text(json.dumps({**config, "task_type": "SEQ_CLS"}))
    with pytest.raises(HarnessError, match=r"is a reward model \(task_type SEQ_CLS\).*'reward' check"):
        load_backend(str(tiny_model_dir), str(reward), progress=False)


def test_adapter_for_another_architecture(tmp_path, tiny_model_dir):
    other = save_random_lora(make_tiny_model(hidden=32), tmp_path / "narrow-lora")
    with pytest.raises(HarnessError, match="does not fit model"):
        load_backend(str(tiny_model_dir), str(other), progress=False)


def test_tokenizer_without_pad_token_gets_one(tmp_path, tiny_model_dir, tokenizer):
    target = tmp_path / "no-pad"
    shutil.copytree(tiny_model_dir, target)
    config_path = target / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.pop("pad_token", None)
    config_path.write_text(json.dumps(config))
    backend = load_backend(str(target), progress=False)
    assert backend.tokenizer.pad_token == tokenizer.eos_token
    assert len(backend.generate([GenerationRequest("hi", max_new_tokens=2), GenerationRequest("a longer prompt", max_new_tokens=2)])) == 2


def test_bad_batch_size():
    with pytest.raises(HarnessError, match="batch size"):
        load_backend(None, batch_size=0)
