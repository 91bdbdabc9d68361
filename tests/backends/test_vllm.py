"""--backend vllm: agreement with the HF backend where vLLM and a GPU exist; the prompt-logprob sum by hand."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.backends.vllm import continuation_sum
from harness.errors import HarnessError


def test_continuation_sum_adds_the_prompt_tokens_from_the_continuation_on():
    lp = lambda v: SimpleNamespace(logprob=v)  # noqa: E731
    prompt_logprobs = [None, {7: lp(-1.0), 8: lp(-0.1)}, {9: lp(-0.5)}, {4: lp(-2.0)}]
    assert continuation_sum(prompt_logprobs, [3, 7, 9, 4], 2) == -2.5  # tokens 9 and 4: -0.5 + -2.0
    with pytest.raises(HarnessError, match="no log-probability for prompt token 1"):
        continuation_sum([None, {8: lp(-0.1)}], [3, 7], 1)


def _gpu_and_vllm() -> str | None:
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return "vLLM is not installed (pip install 'adapter-harness[vllm]')"
    return None if torch.cuda.is_available() else "no CUDA GPU on this machine"


@pytest.mark.slow
def test_vllm_agrees_with_the_hf_backend(embedded_dir):
    reason = _gpu_and_vllm()
    if reason:
        pytest.skip(f"--backend vllm needs vLLM and a GPU: {reason}")
    from harness.backend import GenerationRequest, LoglikelihoodRequest
    from harness.backends import load_backend

    requests = [GenerationRequest((("user", q),), 24) for q in ("Name a colour.", "What is 2+2?", "Say hello.")]
    ll = [LoglikelihoodRequest("Q: What is 2+2?\nA:", " 4")]
    fast, reference = load_backend(None, None, engine="vllm"), load_backend(None, None)
    assert sum(a == b for a, b in zip(fast.generate(requests), reference.generate(requests))) >= 2
    assert fast.loglikelihood(ll)[0] == pytest.approx(reference.loglikelihood(ll)[0], abs=1e-2)


def test_without_a_gpu_the_error_says_so(monkeypatch):
    reason = _gpu_and_vllm()
    if reason is None:
        pytest.skip("this machine can run vLLM")
    from harness.backends.vllm import VLLMBackend

    with pytest.raises(HarnessError, match="needs vLLM|needs a CUDA GPU"):
        VLLMBackend("/nowhere")
