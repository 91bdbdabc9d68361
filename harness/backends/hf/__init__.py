"""Hugging Face transformers (+PEFT) backend, and the embedded SmolLM2-135M-Instruct.

The only package of the harness that imports transformers/peft to run a model. Importing
this package (or ``.embedded``) is cheap; torch and transformers load on first real use.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

# peft 0.21 reads ``model.is_gradient_checkpointing``, which transformers 5 deprecates; the warning
# is about peft's code, not the user's, and would print on every adapter load.
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)

if TYPE_CHECKING:
    from .backend import HFBackend

__all__ = ["HFBackend", "load_hf_backend"]


def load_hf_backend(
    model: str | None = None,
    adapter: str | None = None,
    *,
    batch_size: int = 32,
    device: str = "cpu",
    progress: bool = True,
) -> HFBackend:
    """Load ``model`` (None/'embedded', a local directory or a hub id) with an optional LoRA adapter."""
    from .backend import HFBackend
    from .loading import load

    loaded = load(model, adapter, device=device, progress=progress)
    return HFBackend(loaded.model, loaded.tokenizer, loaded.identity, batch_size=batch_size, progress=progress)


def __getattr__(name: str):
    if name == "HFBackend":
        from .backend import HFBackend

        return HFBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
