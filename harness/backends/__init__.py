"""Model backends. ``load_backend`` picks and loads one; heavy imports happen only on call.

Loaded backends are kept (the last ``KEEP`` of them), so a process that asks for the same
model twice — the gate's applied-check and then its evaluation, a pytest session and a report
plugin — loads it once; ``release_backend`` lets one go that will not be asked for again. The
key includes the adapter files' size and modification time, so a rewritten adapter is loaded
(and verified) again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.backend import Backend, ServerOptions
    from harness.backends.hf import HFBackend

__all__ = ["load_backend", "forget_backends", "release_backend"]

KEEP = 2  # base and one candidate: what a gate holds at once (135M parameters: ~0.55 GB each in float32)
_loaded: OrderedDict[tuple, HFBackend] = OrderedDict()
_lock = threading.Lock()


def _stamp(adapter: str | None) -> tuple:
    if not adapter:
        return ()
    folder = Path(adapter).expanduser()
    files = ("adapter_model.safetensors", "adapter_config.json", "manifest.json", "training.json")
    return tuple((f, p.stat().st_mtime_ns, p.stat().st_size) for f in files if (p := folder / f).is_file())


def forget_backends() -> None:
    """Drop every kept backend (tests, or a caller about to free memory for training)."""
    with _lock:
        _loaded.clear()


def release_backend(backend: Backend) -> None:
    """Stop keeping ``backend`` (or the one a result-cache wrapper holds), so its weights are freed
    once the caller drops it: the gate is done with the baseline before the candidate runs."""
    while getattr(backend, "inner", None) is not None:
        backend = backend.inner
    with _lock:
        for key in [k for k, kept in _loaded.items() if kept is backend]:
            del _loaded[key]


def load_backend(
    model: str | None = None,
    adapter: str | None = None,
    *,
    batch_size: int = 32,
    device: str | None = None,
    progress: bool = True,
    server: ServerOptions | None = None,
    engine: str = "hf",
) -> Backend:
    """A ready Backend for ``model`` + ``adapter``.

    model: None or "embedded" for the built-in SmolLM2-135M-Instruct (converted from its GGUF
    once, then cached), a local transformers directory, or a Hugging Face hub id (online, or
    already in the local HF cache). adapter: a PEFT LoRA adapter directory (safetensors).
    device: a torch device; default ``$ADAPTER_HARNESS_DEVICE``, else ``cpu``.
    server: evaluate through an OpenAI-compatible server instead (``model`` and ``adapter`` are then
    the names it serves): :class:`harness.backends.server.ServerBackend`.
    Raises HarnessError, with one line saying what to fix, for anything the user can get wrong.
    """
    from harness.errors import HarnessError

    if batch_size < 1:
        raise HarnessError(f"batch size must be >= 1, got {batch_size}")
    if server is not None:
        from harness.backends.server import ServerBackend

        if not model:
            raise HarnessError("--backend openai-compatible needs --model: the model name the server serves")
        return ServerBackend(server.base_url, model, adapter_model=adapter, fingerprint=server.fingerprint,
                             max_concurrency=server.max_concurrency, timeout=server.timeout, progress=progress)
    if engine == "vllm":
        from harness.backends.hf.loading import resolve_model_dir
        from harness.backends.vllm import VLLMBackend

        model_dir, _ = resolve_model_dir(model, progress=progress)
        return VLLMBackend(str(model_dir), adapter, progress=progress)
    from harness.backends.hf import load_hf_backend
    from harness.device import default_device

    device = device or default_device()
    key = (model or "embedded", str(Path(adapter).expanduser().resolve()) if adapter else None, device, batch_size,
           _stamp(adapter))
    with _lock:
        if key in _loaded:
            _loaded.move_to_end(key)
            _loaded[key].progress = progress
            return _loaded[key]
    backend = load_hf_backend(model, adapter, batch_size=batch_size, device=device, progress=progress)
    with _lock:
        _loaded[key] = backend
        while len(_loaded) > KEEP:
            _loaded.popitem(last=False)
    return backend
