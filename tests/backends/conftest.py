"""Backend fixtures on top of tests/conftest.py's tiny random Llama and the embedded SmolLM2."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the hub is unreachable here; never try it in tests

import pytest
import torch

from harness.backend import LoglikelihoodRequest
from harness.backends.hf import text
from tests.conftest import make_tiny_model

__all__ = ["make_tiny_model", "naive_loglikelihood", "save_random_lora"]


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
