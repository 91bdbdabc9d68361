"""Adapter integrity: the one place that decides whether an adapter directory may be loaded.

Every loader calls :func:`verify_adapter` before it applies an adapter (``harness run``,
``pytest --adapter``, the gate, ``harness train --init-adapter``, ``harness merge``, reward
models). It refuses, naming the file and both hashes:

- weights that differ from the ``manifest.json`` the gate wrote when it accepted them;
- an adapter trained on another base model (weights hash recorded in the manifest or in
  ``training.json``) than the one about to be loaded;
- an adapter trained with another tokenizer or chat template (their hash, likewise recorded):
  it would be evaluated on prompts rendered differently from the ones it learnt.

An adapter with neither file (made by another tool) carries no record to check against; it
loads, and the run records its weights hash. Core layer: no models, only files and hashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

MANIFEST = "manifest.json"
TRAINING = "training.json"
WEIGHTS = "adapter_model.safetensors"


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(adapter_dir: str | Path) -> dict[str, Any] | None:
    """The adapter's manifest, None if it has none; a broken one is an error."""
    path = Path(adapter_dir) / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{path}: unreadable manifest ({exc}); re-run the gate to publish it again") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: a manifest is a JSON object")
    return data


def read_training(adapter_dir: str | Path) -> dict[str, Any]:
    """``training.json`` written by ``harness train`` ({} when absent or unreadable)."""
    path = Path(adapter_dir) / TRAINING
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _config_base(adapter_dir: Path) -> str | None:
    try:
        return json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8")).get(
            "base_model_name_or_path")
    except (OSError, ValueError, AttributeError):
        return None


def _short(sha: str) -> str:
    return f"{sha[:12]}…"


def verify_adapter(adapter_dir: str | Path, base_sha256: str | None = None,
                   tokenizer_sha256: str | None = None) -> dict[str, Any] | None:
    """Refuse an adapter that was tampered with or does not belong to the model it is loaded on.

    ``base_sha256`` / ``tokenizer_sha256`` describe the base model about to be loaded (None: that
    part is not checked). Returns the manifest (None when there is none).
    """
    adapter_dir = Path(adapter_dir)
    manifest = read_manifest(adapter_dir)
    training = read_training(adapter_dir)
    if manifest is not None:
        expected = (manifest.get("adapter") or {}).get("weights_sha256")
        weights = adapter_dir / WEIGHTS
        if not weights.is_file():
            raise HarnessError(f"adapter {adapter_dir}: {WEIGHTS} is missing although {MANIFEST} lists it")
        if not expected:
            raise HarnessError(f"{adapter_dir / MANIFEST}: no adapter.weights_sha256; the manifest is incomplete")
        actual = sha256_file(weights)
        if actual != expected:
            raise HarnessError(
                f"adapter {adapter_dir}: {weights} does not match its manifest (sha256 {_short(actual)} "
                f"!= {_short(expected)} in {MANIFEST}): the weights were modified or corrupted after the gate "
                "accepted them; refusing to load"
            )
    recorded = (manifest or {}).get("base_model") or training.get("base_model") or {}
    source = MANIFEST if manifest is not None else TRAINING
    recorded_base = recorded.get("weights_sha256")
    if base_sha256 and recorded_base and recorded_base != base_sha256:
        config_base = _config_base(adapter_dir)
        raise HarnessError(
            f"adapter {adapter_dir} was trained on another base model: {source} names "
            f"{recorded.get('training_id') or recorded.get('id') or 'a model'} (weights sha256 {_short(recorded_base)})"
            + (f", adapter_config.json names {config_base}" if config_base else "")
            + f"; the model being loaded has weights sha256 {_short(base_sha256)}. "
            "Load it with the base model it was trained on"
        )
    recorded_tok = recorded.get("tokenizer_sha256")
    if tokenizer_sha256 and recorded_tok and recorded_tok != tokenizer_sha256:
        raise HarnessError(
            f"adapter {adapter_dir} was trained with another tokenizer or chat template: {source} records "
            f"tokenizer sha256 {_short(recorded_tok)}, the model being loaded has {_short(tokenizer_sha256)}. "
            "Its prompts would be rendered differently from those it learnt; load it with the tokenizer "
            "files it was trained with"
        )
    return manifest
