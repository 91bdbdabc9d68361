"""Trainer checkpoints of one training run: resume only the run they were made from, never a half-saved one.

``harness train --resume`` continues an interrupted run from its last complete checkpoint. The
checkpoint folder holds a stamp (recipe, data hashes, init adapter, --max-steps) written at the
start; resuming with anything else is refused rather than mixing two runs in one adapter.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

RECIPE_STAMP = "harness-recipe.json"  # in the checkpoint dir: what the checkpoints were made from


def prepare_checkpoints(ckpt: Path, stamp: dict[str, Any], resume: bool) -> str | None:
    """The checkpoint to resume from (None: a fresh start); refuses to mix runs."""
    existing = sorted(ckpt.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1])) if ckpt.is_dir() else []
    stamp_file = ckpt / RECIPE_STAMP
    if existing and not resume:
        raise HarnessError(
            f"{ckpt} holds checkpoints of an interrupted run (last: {existing[-1].name}); "
            "pass --resume to continue it, or delete that folder to start over"
        )
    if resume and existing:
        complete = [c for c in existing if complete_checkpoint(c)]
        for partial in (c for c in existing if c not in complete):
            # a kill while saving: the Trainer would resume from it and crash, or rotate a complete one away
            print(f"note: {partial} is incomplete (the run was stopped while saving it); skipping and removing it",
                  file=sys.stderr)
            shutil.rmtree(partial, ignore_errors=True)
        existing = complete
    if resume and existing:
        try:
            previous = json.loads(stamp_file.read_text())
        except (OSError, ValueError):
            previous = None
        if previous != stamp:
            raise HarnessError(
                f"cannot --resume: the checkpoints in {ckpt} were made from a different recipe, data, "
                "init adapter or --max-steps; restore those, or delete the folder to start over"
            )
        return str(existing[-1])
    if resume:
        print(f"note: no checkpoint in {ckpt}; starting from the beginning", file=sys.stderr)
    shutil.rmtree(ckpt, ignore_errors=True)
    ckpt.mkdir(parents=True)
    stamp_file.write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    return None


def last_complete(ckpt: Path) -> str | None:
    """The newest complete checkpoint (what the first process resumes from), None without one."""
    found = [c for c in ckpt.glob("checkpoint-*") if complete_checkpoint(c)] if ckpt.is_dir() else []
    return str(max(found, key=lambda p: int(p.name.split("-")[-1]))) if found else None


def complete_checkpoint(folder: Path) -> bool:
    """Saved to the end: the Trainer writes trainer_state.json last, after the weights and optimizer."""
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
        weights = next(folder.glob("*.safetensors"), None)
        if not isinstance(state, dict) or "global_step" not in state or weights is None:
            return False
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt"):
            pass  # a truncated file has a header that points past its end
        return True
    except Exception:  # noqa: BLE001 - unreadable in any way means incomplete
        return False
