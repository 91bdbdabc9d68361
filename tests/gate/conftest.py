"""Fixtures for gate tests: tiny suites and training files, and small LoRA adapters on the embedded model."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

ACCEPT_SUITE = """\
name: gate-accept
description: any short answer passes, so a working adapter is accepted
generation: {max_new_tokens: 4}
cases:
  - id: capital
    prompt: What is the capital of France?
    checks: [{length: {max_words: 1000}}]
  - id: colour
    prompt: What colour is the sky on a clear day?
    checks: [{length: {max_words: 1000}}]
thresholds:
  - {metric: pass_rate, min: 1.0}
"""

REJECT_SUITE = """\
name: gate-reject
description: asks for a word no answer contains, so the threshold cannot hold
generation: {max_new_tokens: 4}
cases:
  - id: capital
    prompt: What is the capital of France?
    checks: [{contains: {any: ["zqxjv-never-said"]}}]
  - id: colour
    prompt: What colour is the sky on a clear day?
    checks: [{contains: {any: ["zqxjv-never-said"]}}]
thresholds:
  - {metric: pass_rate, min: 0.5}
"""


def write_suite(directory: Path, text: str, name: str = "suite.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


UNRELATED_TRAINING = [
    {"prompt": "Write a haiku about autumn leaves.", "response": "Red leaves drift and fall."},
    {"prompt": "How do I politely decline a meeting invitation?", "response": "Thank them and explain briefly."},
]


def save_lora(base_dir: Path, out: Path, *, applied: bool, seed: int = 3) -> Path:
    """A small LoRA on the embedded model: random B (changes outputs) or peft's zero-B init (a no-op)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=not applied)
    peft_model = get_peft_model(model, config)
    if applied:  # keep the change small: outputs differ, but the model still writes text
        with torch.no_grad():
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.mul_(0.05)
    peft_model.save_pretrained(str(out), safe_serialization=True)
    (out / "README.md").unlink(missing_ok=True)
    return out


@pytest.fixture(scope="session")
def embedded_dir():
    from harness.backends.hf.embedded import ensure_embedded_model

    return ensure_embedded_model(progress=False)


@pytest.fixture(scope="session")
def applied_lora(embedded_dir, tmp_path_factory):
    return save_lora(embedded_dir, tmp_path_factory.mktemp("lora-applied"), applied=True)


@pytest.fixture(scope="session")
def noop_lora(embedded_dir, tmp_path_factory):
    return save_lora(embedded_dir, tmp_path_factory.mktemp("lora-noop"), applied=False)
