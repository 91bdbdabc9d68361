"""``harness merge``: base model + LoRA adapter → one standalone model directory.

Checks come first, before anything heavy is loaded: the adapter directory (config, safetensors
weights, no pickles), ``--out`` (never overwritten without ``--force``, never the adapter or the
base itself), then the adapter's integrity against the base it is merged into (its manifest hash,
and the base recorded at training time). The merged model is written into a temporary folder next
to ``--out`` and appears there by one rename, with ``merge.json`` recording what went into it.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

MERGE_INFO = "merge.json"


@dataclass
class MergeResult:
    out: Path
    info: dict[str, Any]


def check_out(out: Path, force: bool, protected: list[Path]) -> None:
    """Refuse an ``out`` that holds something (unless ``force``) or that would destroy an input."""
    resolved = out.resolve()
    for path in protected:
        p = path.resolve()
        if resolved == p or resolved in p.parents:
            raise HarnessError(f"--out {out} would replace {path}, an input of this merge; choose another --out")
    if out.exists() and not out.is_dir():
        raise HarnessError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise HarnessError(f"--out {out} already exists and is not empty; choose another --out or pass --force")


def merge(adapter: str | Path, out: str | Path, *, model: str | None = None, force: bool = False,
          progress: bool = True) -> MergeResult:
    """Write base + ``adapter`` merged into ``out`` (see the module docstring)."""
    from harness.backends.hf.adapter_info import recorded_base
    from harness.backends.hf.loading import check_adapter_dir, tokenizer_sha256
    from harness.backends.hf.merge import check_mergeable, resolve_base, write_merged
    from harness.integrity import sha256_file, verify_adapter
    from harness.training.run import _install
    from harness.training.trainers import versions

    adapter_dir = check_adapter_dir(str(adapter))
    check_mergeable(adapter_dir)
    out = Path(out)
    base_name = model or recorded_base(adapter_dir) or "embedded"
    check_out(out, force, [adapter_dir])
    base = resolve_base(base_name)
    check_out(out, force, [adapter_dir, base.directory])
    verify_adapter(adapter_dir, base.weights_sha256, tokenizer_sha256(base.directory))
    _say(f"merging {adapter_dir} into {base.name} ...", progress)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.merge-", dir=out.parent))
    try:
        write_merged(base, adapter_dir, tmp)
        info = {
            "harness_merge": 1,
            "base_model": {"id": base_name, "name": base.name, "path": str(base.directory),
                           "weights_sha256": base.weights_sha256},
            "adapter": {"path": str(adapter_dir),
                        "weights_sha256": sha256_file(adapter_dir / "adapter_model.safetensors"),
                        "training_name": _training_name(adapter_dir)},
            "merged_weights": sorted(p.name for p in tmp.glob("*.safetensors")),
            "versions": versions(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / MERGE_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        # mkdtemp (and the weights writer) make things private; a model is an ordinary readable directory.
        tmp.chmod(0o755)
        for item in tmp.iterdir():
            item.chmod(0o644)
        _install(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return MergeResult(out, info)


def _training_name(adapter_dir: Path) -> str | None:
    try:
        return json.loads((adapter_dir / "training.json").read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        return None


def _say(text: str, progress: bool) -> None:
    if progress:
        print(text, file=sys.stderr)
