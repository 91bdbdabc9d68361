"""harness.integrity: the checks every adapter load runs (hashes computed here with hashlib)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness import integrity
from harness.errors import HarnessError


def adapter_dir(path: Path, weights: bytes = b"weights", manifest: dict | None = None,
                training: dict | None = None, config_base: str = "HuggingFaceTB/SmolLM2-135M-Instruct") -> Path:
    path.mkdir(parents=True)
    (path / integrity.WEIGHTS).write_bytes(weights)
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": config_base}))
    if manifest is not None:
        (path / integrity.MANIFEST).write_text(json.dumps(manifest))
    if training is not None:
        (path / integrity.TRAINING).write_text(json.dumps(training))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_sha256_file_matches_hashlib(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5_000_000)  # more than one read chunk
    assert integrity.sha256_file(path) == sha(b"x" * 5_000_000)


def test_an_untouched_manifest_adapter_loads(tmp_path):
    doc = {"adapter": {"weights_sha256": sha(b"weights")},
           "base_model": {"id": "embedded", "weights_sha256": "a" * 64, "tokenizer_sha256": "t" * 64}}
    path = adapter_dir(tmp_path / "a", manifest=doc)
    assert integrity.verify_adapter(path, "a" * 64, "t" * 64) == doc


def test_tampered_weights_name_the_file_and_both_hashes(tmp_path):
    doc = {"adapter": {"weights_sha256": sha(b"weights")}}
    path = adapter_dir(tmp_path / "a", weights=b"weightz", manifest=doc)
    with pytest.raises(HarnessError) as err:
        integrity.verify_adapter(path)
    message = str(err.value)
    assert str(path / integrity.WEIGHTS) in message
    assert sha(b"weightz")[:12] in message and sha(b"weights")[:12] in message


def test_another_base_names_both_records(tmp_path):
    doc = {"adapter": {"weights_sha256": sha(b"weights")},
           "base_model": {"id": "embedded", "training_id": "embedded", "weights_sha256": "a" * 64}}
    path = adapter_dir(tmp_path / "a", manifest=doc, config_base="some/other-model")
    with pytest.raises(HarnessError, match="trained on another base model") as err:
        integrity.verify_adapter(path, "c" * 64)
    message = str(err.value)
    assert "manifest.json names embedded" in message and "adapter_config.json names some/other-model" in message
    assert "a" * 12 in message and "c" * 12 in message


@pytest.mark.parametrize("record", ["manifest", "training"])
def test_another_tokenizer_or_chat_template_is_refused(tmp_path, record):
    base = {"id": "embedded", "weights_sha256": "a" * 64, "tokenizer_sha256": "1" * 64}
    kwargs = ({"manifest": {"adapter": {"weights_sha256": sha(b"weights")}, "base_model": base}}
              if record == "manifest" else {"training": {"base_model": base}})
    path = adapter_dir(tmp_path / "a", **kwargs)
    assert integrity.verify_adapter(path, "a" * 64, "1" * 64) == kwargs.get("manifest")
    with pytest.raises(HarnessError, match="another tokenizer or chat template") as err:
        integrity.verify_adapter(path, "a" * 64, "2" * 64)
    assert "1" * 12 in str(err.value) and "2" * 12 in str(err.value)


def test_an_adapter_without_records_loads_unchecked(tmp_path):
    """Made by another tool: nothing to compare with (the run still records its weights hash)."""
    assert integrity.verify_adapter(adapter_dir(tmp_path / "a"), "a" * 64, "t" * 64) is None


def test_manifest_listing_missing_weights(tmp_path):
    path = adapter_dir(tmp_path / "a", manifest={"adapter": {"weights_sha256": sha(b"weights")}})
    (path / integrity.WEIGHTS).unlink()
    with pytest.raises(HarnessError, match="is missing although manifest.json lists it"):
        integrity.verify_adapter(path)
