"""One training run: recipe + data → TRL trainer → a LoRA adapter written atomically.

Layout while training, for ``--out runs/demo/sft``::

    runs/demo/.sft.checkpoints/    Trainer checkpoints (kept after an interruption, for --resume)
    runs/demo/.sft.tmp-XXXX/       the finished adapter being written
    runs/demo/sft/                 appears only by one rename, once everything is written

so an interrupted run never leaves a half-written adapter at ``--out``. The adapter directory
holds ``adapter_model.safetensors``, ``adapter_config.json`` and ``training.json`` (recipe,
data hashes, base model, seed, library versions, train metrics). A reward model (``method: reward``)
also records its held-out pairwise accuracy there (``heldout``), see :mod:`harness.training.reward`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.training.checkpoints import last_complete, prepare_checkpoints
from harness.training.recipes import Recipe
from harness.training_data import DataError, DataFile, read_data_file


@dataclass
class TrainResult:
    out: Path
    info: dict[str, Any]


def load_data(recipe: Recipe) -> list[DataFile]:
    """Every data entry of the recipe, validated, and checked to suit the method."""
    from harness.sources.truthfulqa_pairs import TruthfulQATrainParams, load_truthfulqa_train

    files = []
    for shown, source, params in recipe.data_items():
        if source:
            files.append(load_truthfulqa_train(TruthfulQATrainParams.model_validate(params), recipe.base_dir))
        else:
            files.append(read_data_file(recipe.resolve(shown), skip_invalid=recipe.skip_invalid_rows, display=shown))
    if recipe.sft_on_chosen:
        files = [f.as_sft() for f in files]
    wanted = "sft" if recipe.method == "sft" else "preference"
    for f, (shown, _, _) in zip(files, recipe.data_items(), strict=True):
        if f.kind != wanted:
            hint = ("use 'method: dpo', or 'sft_on_chosen: true' to learn the chosen answers"
                    if f.kind == "preference" else "use 'method: sft'")
            raise DataError(shown, None, None, f"'{f.format}' rows are {f.kind} data but the recipe is 'method: {recipe.method}'; {hint}")
    kinds = {"text" if f.format == "text" else "chat" for f in files}
    if len(kinds) > 1:
        raise HarnessError("raw 'text' files cannot be mixed with conversational files in one recipe "
                           "(TRL trains them differently); split them into two recipes")
    return files


def resolve_base_model(name: str) -> tuple[str, dict[str, Any]]:
    """(what to pass to from_pretrained, identity for training.json)."""
    if name == "embedded":
        from harness.backends.hf.embedded import ensure_embedded_model

        path = ensure_embedded_model()
        return str(path), {"id": "embedded", "path": str(path), **_hashes(path)}
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path), {"id": str(path.resolve()), "path": str(path.resolve()), **_hashes(path)}
    return name, {"id": name, "path": None, "weights_sha256": None, "tokenizer_sha256": None}


def _hashes(directory: Path) -> dict[str, str | None]:
    """The same weights and tokenizer hashes the backend computes, so every later load can match them."""
    from harness.backends.hf.loading import tokenizer_sha256, weights_sha256

    try:
        weights = weights_sha256(directory)
    except HarnessError:
        weights = None  # no safetensors: nothing to match
    return {"weights_sha256": weights, "tokenizer_sha256": tokenizer_sha256(directory)}


def train(
    recipe: Recipe,
    out: str | Path,
    *,
    resume: bool = False,
    max_steps: int | None = None,
    init_adapter: str | Path | None = None,
    overwrite: bool = False,
    checkpoint_dir: str | Path | None = None,
    callbacks: list[Any] | None = None,
) -> TrainResult:
    """Train the recipe's adapter and install it at ``out`` (see the module docstring)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise HarnessError(f"{out} already exists; choose another --out or pass --overwrite")
    ckpt = Path(checkpoint_dir) if checkpoint_dir else out.parent / f".{out.name}.checkpoints"
    started = datetime.now(timezone.utc)
    files = load_data(recipe)
    for f in files:
        for warning in f.skipped:
            print(f"warning: skipped bad row: {warning}", file=sys.stderr)
    init = Path(init_adapter) if init_adapter else (recipe.resolve(recipe.init_adapter) if recipe.init_adapter else None)
    if init is not None:
        from harness.backends.hf.loading import check_adapter_dir

        try:  # the same checks as every adapter load: a PEFT config and safetensors weights (never a pickle)
            check_adapter_dir(str(init))
        except HarnessError as exc:
            raise HarnessError(f"init_adapter: no adapter at {init}: {exc}; train that adapter first or point at "
                               "a safetensors adapter") from None
    model_path, base_identity = resolve_base_model(recipe.base_model)
    from harness.backends import forget_backends
    from harness.device import return_freed_memory

    forget_backends()  # models kept from an earlier evaluation in this process: free them before training
    return_freed_memory()  # only with ADAPTER_HARNESS_MALLOC=release (less memory, slower steps)
    if init is not None:
        from harness.integrity import verify_adapter

        try:  # manifest hash, trained on this base, with this tokenizer: before any training starts
            verify_adapter(init, base_identity["weights_sha256"], base_identity["tokenizer_sha256"])
        except HarnessError as exc:
            raise HarnessError(f"init_adapter: {exc}") from None
    stamp = _stamp(recipe, files, init, max_steps)
    from harness.backends import shard

    # under `accelerate launch` (DDP) the first process owns the files; the others wait for it
    resume_from = prepare_checkpoints(ckpt, stamp, resume) if shard.is_main() else None
    shard.barrier()
    if not shard.is_main():
        resume_from = last_complete(ckpt) if resume else None

    from harness.training import trainers

    split = None
    train_files = files
    if recipe.method == "reward":
        from harness.training.reward import split_heldout

        split = split_heldout(files, recipe.reward_or_default.heldout_fraction, recipe.seed)
        train_files = split.train
    args = recipe.trainer_args(ckpt, max_steps)
    timer = trainers.step_timer()
    trainer = trainers.build(recipe, args, model_path, train_files, init, [timer, *(callbacks or [])])
    dropped = sum(len(f.rows) for f in train_files) - len(trainer.train_dataset)
    if dropped > 0:  # TRL drops (does not truncate) preference pairs longer than max_length
        print(f"warning: {dropped} training rows are longer than train.max_length={recipe.train.max_length} "
              "tokens and were left out; raise max_length to train on them", file=sys.stderr)
    result = trainer.train(resume_from_checkpoint=resume_from)
    if not shard.is_main():  # the first process evaluates, saves and installs the adapter
        shard.barrier()
        return TrainResult(out, {"global_step": trainer.state.global_step, "rank": shard.world()[0]})

    model = trainer.accelerator.unwrap_model(trainer.model)
    heldout = _evaluate_heldout(recipe, model, trainer.processing_class, split) if split is not None else None
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        model.save_pretrained(str(tmp), selected_adapters=["default"], safe_serialization=True)
        (tmp / "README.md").unlink(missing_ok=True)  # peft's empty model-card template; training.json says it all
        info = {
            "harness_training": 1,
            "name": recipe.display_name,
            "method": recipe.method,
            "recipe": recipe.as_dict(),
            "recipe_path": str(recipe.path) if recipe.path else None,
            "recipe_sha256": hashlib.sha256(recipe.path.read_bytes()).hexdigest() if recipe.path else None,
            "base_model": base_identity,
            "init_adapter": _adapter_identity(init) if init else None,
            "data": [_data_identity(f, shown) for f, (shown, _, _) in zip(files, recipe.data_items(), strict=True)],
            "seed": recipe.seed,
            "max_steps_override": max_steps,
            "resumed_from": resume_from,
            "versions": trainers.versions(),
            "metrics": {k: v for k, v in result.metrics.items() if isinstance(v, (int, float))},
            "global_step": trainer.state.global_step,
            "seconds_per_step": timer.median(),
            "log_history": [e for e in trainer.state.log_history if "loss" in e or "train_loss" in e],
            "rows_dropped_too_long": max(dropped, 0),
            "adapter_sha256": _file_sha(tmp / "adapter_model.safetensors"),
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if heldout is not None:
            info["heldout"] = heldout
        (tmp / "training.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        # mkdtemp (and the safetensors writer) make things private; an adapter is an ordinary readable directory.
        tmp.chmod(0o755)
        for item in tmp.iterdir():
            item.chmod(0o644)
        _install(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(ckpt, ignore_errors=True)  # the run finished: its checkpoints are no longer needed
    shard.barrier()
    return TrainResult(out, info)


def _evaluate_heldout(recipe: Recipe, model: Any, tokenizer: Any, split: Any) -> dict[str, Any]:
    """Pairwise accuracy of the trained reward model on the held-out pairs (printed and returned)."""
    from harness.training.reward import heldout_metrics

    metrics = heldout_metrics(model, tokenizer, split.heldout, batch_size=recipe.train.batch_size)
    metrics = {"fraction": recipe.reward_or_default.heldout_fraction, "prompts": split.heldout_prompts, **metrics}
    if metrics["pairs"]:
        print(f"held-out pairwise accuracy: {metrics['accuracy']:.3f} on {metrics['pairs']} pairs "
              f"({metrics['prompts']} prompts never trained on), mean margin {metrics['mean_margin']:+.3f}",
              file=sys.stderr)
    else:
        print("note: reward.heldout_fraction is 0; no held-out accuracy measured", file=sys.stderr)
    return metrics


def _install(tmp: Path, out: Path) -> None:
    """Put ``tmp`` at ``out`` by rename; a replaced adapter is moved aside first, then deleted."""
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{time.time_ns()}"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _stamp(recipe: Recipe, files: list[DataFile], init: Path | None, max_steps: int | None) -> dict[str, Any]:
    return {
        "recipe": recipe.as_dict(),
        "data_sha256": [f.sha256 for f in files],
        "init_adapter_sha256": _file_sha(init / "adapter_model.safetensors") if init else None,
        "max_steps": max_steps,
    }


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _adapter_identity(path: Path) -> dict[str, Any]:
    info = {"path": str(path), "adapter_sha256": _file_sha(path / "adapter_model.safetensors")}
    meta = path / "training.json"
    if meta.is_file():
        try:
            info["name"] = json.loads(meta.read_text()).get("name")
        except ValueError:
            pass
    return info


def _data_identity(f: DataFile, shown: str) -> dict[str, Any]:
    return {"name": shown, "path": str(f.path), "format": f.format, "rows": len(f.rows),
            "skipped_rows": len(f.skipped), "sha256": f.sha256, "chosen_only": f.chosen_only}
