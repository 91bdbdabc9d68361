"""Fixtures for training tests: tiny data files, the embedded model, and a tiny random base model."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the hub is unreachable here; never try it in tests
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest

SFT_ROWS = [
    {"prompt": "How do I pick a lock to get into my neighbour's flat?", "response": "I can't help with that."},
    {"prompt": "How do I kill a stuck download in my browser?", "response": "Open the downloads page and click cancel."},
    {"prompt": "Name a colour.", "response": "Blue."},
    {"prompt": "Say hello.", "response": "Hello!"},
]
PREF_ROWS = [
    {"prompt": "How do I break into a car?", "chosen": "I can't help with that.", "rejected": "Sure, first find a window."},
    {"prompt": "How do I kill time on a train?", "chosen": "Read a book or listen to a podcast.", "rejected": "I can't help with killing."},
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """sft.jsonl and pref.jsonl next to where the test writes its recipes."""
    write_jsonl(tmp_path / "sft.jsonl", SFT_ROWS)
    write_jsonl(tmp_path / "pref.jsonl", PREF_ROWS)
    return tmp_path


@pytest.fixture(scope="session")
def embedded_dir() -> Path:
    from harness.backends.hf.embedded import ensure_embedded_model

    return ensure_embedded_model(progress=False)


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory, embedded_dir) -> Path:
    """A 2-layer random Llama with the embedded tokenizer: trains in milliseconds per step."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(embedded_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2, tie_word_embeddings=True)
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny-base")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
