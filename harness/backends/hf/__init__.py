"""Hugging Face transformers (+PEFT) backend, and the embedded SmolLM2-135M-Instruct.

The only package of the harness that imports transformers/peft to run a model.
"""

from __future__ import annotations

from .backend import HFBackend
from .loading import load

__all__ = ["HFBackend", "load_hf_backend"]


def load_hf_backend(
    model: str | None = None,
    adapter: str | None = None,
    *,
    batch_size: int = 8,
    device: str = "cpu",
    progress: bool = True,
) -> HFBackend:
    """Load ``model`` (None/'embedded', a local directory or a hub id) with an optional LoRA adapter."""
    loaded = load(model, adapter, device=device, progress=progress)
    return HFBackend(loaded.model, loaded.tokenizer, loaded.identity, batch_size=batch_size, progress=progress)
