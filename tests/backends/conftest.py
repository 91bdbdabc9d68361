"""Fixtures: a tiny random Llama (fast unit tests) and the real embedded SmolLM2 (integration)."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the hub is unreachable here; never try it in tests

import pytest
import torch

from harness.backend import LoglikelihoodRequest
from harness.backends.hf import text


@pytest.fixture(scope="session")
def embedded_dir():
    from harness.backends.hf.embedded import ensure_embedded_model

    return ensure_embedded_model(progress=False)


@pytest.fixture(scope="session")
def tokenizer(embedded_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_dir)


def make_tiny_model(seed: int = 0, hidden: int = 64, layers: int = 2, vocab: int = 49152):
    """A randomly initialised Llama small enough to run in milliseconds.

    A large initializer_range makes its next-token distributions peaked, so numerical
    differences between two ways of computing the same thing are not hidden by flat logits.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.2,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 2
    return model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    path = tmp_path_factory.mktemp("tiny-llama")
    make_tiny_model().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir):
    from harness.backends import load_backend

    return load_backend(str(tiny_model_dir), batch_size=4, progress=False)


@pytest.fixture(scope="session")
def embedded_backend():
    from harness.backends import load_backend

    return load_backend(None, batch_size=8, progress=False)


def naive_loglikelihood(model, tokenizer, requests: list[LoglikelihoodRequest]) -> list[float]:
    """The reference: one full forward per request, no batching, no cache, no sharing."""
    limit = text.max_length(model.config, tokenizer)
    out = []
    with torch.inference_mode():
        for request in requests:
            context = text.render(tokenizer, request.context)
            ctx, cont = text.encode_pair(tokenizer, context, request.continuation)
            if not cont:
                out.append(0.0)
                continue
            whole = (ctx + cont)[-(limit + 1) :]
            logits = model(torch.tensor([whole[:-1]])).logits[0]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
            n = len(cont)
            positions = torch.arange(len(whole) - 1 - n, len(whole) - 1)
            out.append(float(logprobs[positions, torch.tensor(whole[-n:])].sum()))
    return out


def save_random_lora(model, path, seed: int = 1):
    """A LoRA adapter with random (non-zero) B matrices, so it really changes the outputs."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    peft_model.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def lora_dir(tmp_path_factory):
    return save_random_lora(make_tiny_model(), tmp_path_factory.mktemp("tiny-lora"))
