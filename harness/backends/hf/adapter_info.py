"""What an adapter directory says about itself: its peft config and the base model it was trained on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def adapter_config(adapter_dir: Path) -> dict[str, Any]:
    """``adapter_config.json`` as a dict; unreadable or malformed is a HarnessError."""
    path = adapter_dir / "adapter_config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise HarnessError(f"{path}: unreadable ({e})") from None
    if not isinstance(config, dict):
        raise HarnessError(f"{path}: not a JSON object")
    return config


def recorded_base(adapter_dir: Path) -> str | None:
    """The base the adapter was trained on, as ``load_backend`` accepts it, or None when unrecorded.

    ``training.json`` (written by ``harness train``) names it as the user did: 'embedded', a
    directory or a hub id. Otherwise peft's ``base_model_name_or_path`` is the best record.
    """
    meta = adapter_dir / "training.json"
    if meta.is_file():
        try:
            recorded = (json.loads(meta.read_text(encoding="utf-8")).get("base_model") or {}).get("id")
        except (OSError, ValueError, AttributeError):
            recorded = None
        if recorded:
            return str(recorded)
    base = adapter_config(adapter_dir).get("base_model_name_or_path")
    return str(base) if base else None
