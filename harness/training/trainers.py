"""TRL trainers for a recipe: ``SFTTrainer``/``DPOTrainer``/``RewardTrainer`` with a PEFT LoRA (no custom loop).

- SFT: conversational prompt/completion rows, so TRL applies the model's chat template and
  puts the loss on the completion (the assistant's answer) only.
- DPO: conversational prompt/chosen/rejected rows. With a new LoRA, the reference model is
  the base (TRL disables the adapter); continuing an ``init_adapter`` (SFT → DPO), TRL
  copies it into a frozen ``ref`` adapter, so the reference is the SFT model.
- Reward: the same preference rows; the base is loaded as ``AutoModelForSequenceClassification``
  with one label (a new scalar ``score`` head on the last token) and the LoRA is ``SEQ_CLS``, so
  peft trains and saves that head along with the adapter.
"""

from __future__ import annotations

import statistics
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.logs import is_quiet
from harness.training.recipes import Recipe
from harness.training_data import DataFile


def versions() -> dict[str, str | None]:
    """Installed versions of the libraries that shape an adapter."""
    out: dict[str, str | None] = {}
    for dist in ("adapter-harness", "torch", "transformers", "peft", "trl", "datasets", "accelerate"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def step_timer() -> Any:
    """A TrainerCallback recording the wall seconds of each optimizer step (checkpoint saving excluded)."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self._last: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._last = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            now = time.perf_counter()
            if self._last is not None:
                self.seconds.append(now - self._last)
            self._last = now

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._last = time.perf_counter()

        def median(self) -> float | None:
            return round(statistics.median(self.seconds), 3) if self.seconds else None

    return StepTimer()


def load_base(model_path: str, reward: bool = False) -> tuple[Any, Any]:
    """(model in float32, tokenizer) — a clear error when the model cannot be found.

    ``reward``: the base as a one-label sequence classifier (its ``score`` head starts random).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    if reward:  # "score.weight newly initialized" / "lm_head unused" are expected: the head is what we train
        hf_logging.set_verbosity_error()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path)
        if reward:
            model = AutoModelForSequenceClassification.from_pretrained(model_path, num_labels=1, dtype=torch.float32)
        else:
            model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"cannot load base model {model_path!r}: {exc}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if reward:  # batched scoring finds each sequence's last token by the pad id
        model.config.pad_token_id = tokenizer.pad_token_id
    if not tokenizer.chat_template:
        raise HarnessError(f"base model {model_path!r} has no chat template; conversational training data needs one")
    return model, tokenizer


def without_default_system_prompt(rows: list[dict[str, Any]], tokenizer: Any) -> list[dict[str, Any]]:
    """``rows`` with an empty system message first in each conversational prompt that has none.

    Only when it is shorter: a template that inserts a fixed system prompt into every conversation
    without one (SmolLM2's) renders an empty system message in fewer tokens; for any other
    template the rows are returned unchanged.
    """
    user = [{"role": "user", "content": "x"}]
    plain = tokenizer.apply_chat_template(user, tokenize=False)
    empty = tokenizer.apply_chat_template([{"role": "system", "content": ""}, *user], tokenize=False)
    if len(tokenizer(empty)["input_ids"]) >= len(tokenizer(plain)["input_ids"]):
        return rows
    out = []
    for row in rows:
        prompt = row.get("prompt")
        if isinstance(prompt, list) and prompt and prompt[0]["role"] != "system":
            row = {**row, "prompt": [{"role": "system", "content": ""}, *prompt]}
        out.append(row)
    return out


def _with_adapter(model: Any, init: Path) -> Any:
    """``init`` continues training; ``run.train`` verified its integrity against this base already."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(init), is_trainable=True)


def build(recipe: Recipe, args: Any, model_path: str, files: list[DataFile], init: Path | None,
          callbacks: list[Any]) -> Any:
    """The configured TRL trainer, ready for ``.train()``."""
    trainer = _trainer(recipe, args, model_path, files, init, callbacks)
    if is_quiet():  # unless --verbose: the loss on the step bar, not a printed dict every few steps
        from transformers.trainer_callback import ProgressCallback

        trainer.remove_callback(ProgressCallback)
        trainer.add_callback(loss_on_bar())
    return trainer


def loss_on_bar() -> Any:
    """transformers' step bar, with the latest logged loss as its postfix instead of a printed line per log."""
    from transformers.trainer_callback import ProgressCallback

    class LossOnBar(ProgressCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if state.is_world_process_zero and self.training_bar is not None and logs and "loss" in logs:
                self.training_bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

    return LossOnBar()


def _trainer(recipe: Recipe, args: Any, model_path: str, files: list[DataFile], init: Path | None,
             callbacks: list[Any]) -> Any:
    from datasets import Dataset
    from transformers import set_seed

    set_seed(recipe.seed)  # before loading: a reward model's new head is initialised randomly
    model, tokenizer = load_base(model_path, reward=recipe.method == "reward")
    if init is not None:
        model = _with_adapter(model, init)
    peft_config = None if init is not None else recipe.peft_config()
    rows = [row for f in files for row in f.rows]
    if not recipe.train.default_system_prompt:
        rows = without_default_system_prompt(rows, tokenizer)
    dataset = Dataset.from_list(rows)
    kwargs = dict(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                  peft_config=peft_config, callbacks=callbacks)
    if recipe.method == "sft":
        from trl import SFTTrainer

        t = recipe.train
        trainer_class = SFTTrainer
        if t.opening_tokens and t.opening_weight != 1.0:
            from harness.training.losses import opening_weighted_trainer

            trainer_class = opening_weighted_trainer(t.opening_tokens, t.opening_weight)
        return trainer_class(**kwargs)
    if recipe.method == "reward":
        from trl import RewardTrainer

        return RewardTrainer(**kwargs)
    from trl import DPOTrainer

    return DPOTrainer(**kwargs)
