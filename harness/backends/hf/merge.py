"""Merge a LoRA adapter into its base model: plain float32 safetensors weights + tokenizer.

The merged directory is an ordinary transformers model: ``AutoModelForCausalLM.from_pretrained``
loads it without peft, and it scores like base + adapter (peft's ``merge_and_unload`` adds the
low-rank update into each target weight). :mod:`harness.training.merge` wraps this with the
integrity checks and the atomic write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

from .adapter_info import adapter_config


@dataclass(frozen=True)
class Base:
    """A resolved base model: where it is, how to show it, and its weights hash."""

    directory: Path
    name: str
    weights_sha256: str


def resolve_base(model: str | None) -> Base:
    """'embedded'/None, a local directory or a hub id → its directory and weights sha256."""
    from .loading import resolve_model_dir, weights_sha256

    directory, name = resolve_model_dir(model, progress=False)
    return Base(directory, name, weights_sha256(directory))


def check_mergeable(adapter_dir: Path) -> None:
    """Only LoRA-style adapters of a causal LM can be merged into the generating model."""
    config = adapter_config(adapter_dir)
    task = config.get("task_type")
    if task == "SEQ_CLS":
        raise HarnessError(f"{adapter_dir} is a reward model (task_type SEQ_CLS), not a generation adapter; "
                           "use it in a 'reward' check instead of merging it")
    if config.get("peft_type") not in (None, "LORA"):
        raise HarnessError(f"{adapter_dir}: only LoRA adapters can be merged (peft_type {config.get('peft_type')!r})")


def write_merged(base: Base, adapter_dir: Path, out: Path) -> None:
    """Load base + adapter, merge, and save weights (safetensors), generation config and tokenizer into ``out``."""
    from .loading import apply_adapter, load_model_and_tokenizer

    model, tokenizer = load_model_and_tokenizer(base.directory, base.name)
    wrapped = apply_adapter(model, adapter_dir, base.name, merge=False)  # merge_and_unload below, with safe_merge
    try:
        # safe_merge: merge into a copy first and refuse NaNs instead of writing a broken model.
        merged = wrapped.merge_and_unload(safe_merge=True)
    except ValueError as e:
        raise HarnessError(f"adapter {adapter_dir} could not be merged: {e}") from None
    merged.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    leftovers = sorted(p.name for p in out.glob("*.bin"))
    if leftovers:  # save_pretrained with safe_serialization never writes pickles; make sure of it
        raise HarnessError(f"merge wrote pickle files {leftovers}; refusing to publish them")
