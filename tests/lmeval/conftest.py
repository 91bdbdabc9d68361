"""Fixtures for the lm-eval bridge: a tiny random model (fast) and the embedded SmolLM2 (slow tests)."""

from __future__ import annotations

import pytest

from tests.lmeval import helpers  # noqa: F401  (sets the offline / TruthfulQA environment first)


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_dir):
    """The tiny random Llama at batch size 1 (no padding, so its outputs match lm-eval's exactly)."""
    from harness.backends import load_backend

    return load_backend(str(tiny_model_dir), batch_size=1, progress=False)


@pytest.fixture(scope="session")
def render(tokenizer):
    """Prompt → model input text, as the HF backend renders it (the embedded model's chat template)."""
    from harness.backends.hf import text

    return lambda prompt: text.render(tokenizer, prompt)


@pytest.fixture(scope="session")
def embedded_backend():
    from harness.backends import load_backend

    return load_backend(None, batch_size=8, progress=False)
