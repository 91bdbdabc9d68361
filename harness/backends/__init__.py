"""Model backends. ``load_backend`` picks and loads one; heavy imports happen only on call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.backends.hf import HFBackend

__all__ = ["load_backend"]


def load_backend(
    model: str | None = None,
    adapter: str | None = None,
    *,
    batch_size: int = 32,
    device: str | None = None,
    progress: bool = True,
) -> HFBackend:
    """A ready Backend for ``model`` + ``adapter``.

    model: None or "embedded" for the built-in SmolLM2-135M-Instruct (converted from its GGUF
    once, then cached), a local transformers directory, or a Hugging Face hub id (online, or
    already in the local HF cache). adapter: a PEFT LoRA adapter directory (safetensors).
    device: a torch device; default ``$ADAPTER_HARNESS_DEVICE``, else ``cpu``.
    Raises HarnessError, with one line saying what to fix, for anything the user can get wrong.
    """
    from harness.errors import HarnessError

    if batch_size < 1:
        raise HarnessError(f"batch size must be >= 1, got {batch_size}")
    from harness.backends.hf import load_hf_backend
    from harness.device import default_device

    return load_hf_backend(model, adapter, batch_size=batch_size, device=device or default_device(), progress=progress)
