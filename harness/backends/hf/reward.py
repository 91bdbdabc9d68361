"""Reward models on transformers: a LoRA adapter with a scalar head (peft ``SEQ_CLS``) on a causal-LM base.

``harness train`` with ``method: reward`` writes such an adapter (TRL's RewardTrainer on
``AutoModelForSequenceClassification``, ``num_labels=1``). This module loads it and scores
responses. Both the held-out accuracy reported after training and the ``reward`` check go
through :func:`rewards`, so the two numbers are computed in exactly the same way, on the same
token ids the RewardTrainer trained on (the chat template applied to prompt + answer).

Only safetensors weights load and remote code never runs. Loaded models are cached per
process and reloaded when the adapter file changes (a retrained reward model at the same path).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.backend import Prompt
from harness.errors import HarnessError

REWARD_TASK = "SEQ_CLS"
WEIGHTS = "adapter_model.safetensors"


def conversation(prompt: Prompt | list[dict[str, str]], response: str) -> list[dict[str, str]]:
    """The chat a reward model judges: the prompt's turns, then ``response`` as the assistant's answer.

    A raw-text prompt becomes one user turn: reward models here are trained on conversations.

    >>> conversation("Hi", "Hello!")
    [{'role': 'user', 'content': 'Hi'}, {'role': 'assistant', 'content': 'Hello!'}]
    """
    if isinstance(prompt, str):
        turns = [{"role": "user", "content": prompt}]
    else:
        turns = [dict(m) if isinstance(m, dict) else {"role": m[0], "content": m[1]} for m in prompt]
    return [*turns, {"role": "assistant", "content": response}]


def encode(tokenizer: Any, chat: list[dict[str, str]], limit: int | None = None) -> list[int]:
    """Token ids of ``chat`` as TRL's RewardTrainer makes them (``apply_chat_template``, no generation prompt).

    Beyond ``limit`` tokens the start is cut: the reward is read at the last token, so the answer must stay.
    """
    ids = list(tokenizer.apply_chat_template(chat, tokenize=True, return_dict=True)["input_ids"])
    return ids[-limit:] if limit and len(ids) > limit else ids


def rewards(model: Any, tokenizer: Any, chats: Sequence[list[dict[str, str]]], *, batch_size: int = 8,
            progress: bool = False, desc: str = "rewards") -> list[float]:
    """The scalar reward of each chat, in order (batched, right-padded, no gradients)."""
    import torch
    from tqdm.auto import tqdm

    limit = getattr(model.config, "max_position_embeddings", None)
    encoded = [encode(tokenizer, chat, limit) for chat in chats]
    # Longest first: batches of similar length waste little on padding.
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    pad = tokenizer.pad_token_id
    out: list[float] = [0.0] * len(encoded)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), tqdm(total=len(encoded), desc=desc, disable=not progress, leave=False) as bar:
            for start in range(0, len(order), batch_size):
                batch = order[start:start + batch_size]
                width = max(len(encoded[i]) for i in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids[row, :len(encoded[i])] = torch.tensor(encoded[i])
                    mask[row, :len(encoded[i])] = 1
                # The model reads the reward at each row's last non-pad token (its own rule, as in training).
                logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
                for row, i in enumerate(batch):
                    out[i] = float(logits[row, 0])
                bar.update(len(batch))
    finally:
        model.train(was_training)
    return out


class HFRewardModel:
    """A loaded reward model: ``score(prompt, responses)`` gives one reward per response."""

    def __init__(self, model: Any, tokenizer: Any, identity: dict[str, str | None], *, batch_size: int = 8):
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        self.batch_size = batch_size
        self._lock = threading.Lock()  # one forward pass at a time; the tokenizer is not thread-safe

    def score(self, prompt: Prompt, responses: Sequence[str]) -> list[float]:
        chats = [conversation(prompt, r) for r in responses]
        with self._lock:
            return rewards(self.model, self.tokenizer, chats, batch_size=self.batch_size)

    def __repr__(self) -> str:
        return f"HFRewardModel({self.identity.get('adapter')!r})"


# ---------------------------------------------------------------------------- loading

_cache: dict[tuple[str, int, int], HFRewardModel] = {}
_cache_lock = threading.Lock()


def load_reward_model(adapter: str | Path, *, base_model: str | None = None) -> HFRewardModel:
    """The reward model in ``adapter`` (cached; reloaded when its weights file changes).

    ``base_model`` overrides the base the adapter records (training.json, else adapter_config.json).
    """
    from .loading import check_adapter_dir

    path = check_adapter_dir(str(adapter)).resolve()
    stat = (path / WEIGHTS).stat()
    key = (f"{path}|{base_model or ''}", stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        if key not in _cache:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]  # the adapter was rewritten: drop the stale model
            _cache[key] = _load(path, base_model)
        return _cache[key]


def _load(adapter_dir: Path, base_model: str | None) -> HFRewardModel:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from harness.integrity import sha256_file, verify_adapter

    from .adapter_info import adapter_config, recorded_base
    from .loading import _brief, resolve_model_dir, tokenizer_sha256, weights_sha256

    config = adapter_config(adapter_dir)
    if config.get("task_type") != REWARD_TASK:
        raise HarnessError(
            f"{adapter_dir} is not a reward model (adapter task_type {config.get('task_type')!r}, expected "
            f"{REWARD_TASK!r}); train one with a 'method: reward' recipe, e.g. training/recipes/reward.yaml"
        )
    _check_head_saved(adapter_dir)
    base = base_model or recorded_base(adapter_dir)
    if not base:
        raise HarnessError(f"{adapter_dir}: no base model recorded (training.json or adapter_config.json)")
    model_dir, name = resolve_model_dir(base, progress=False)
    base_sha = weights_sha256(model_dir)
    verify_adapter(adapter_dir, base_sha, tokenizer_sha256(model_dir))  # untampered, trained on this very base
    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    # The causal LM checkpoint has no score head (its LoRA adapter brings it) and an unused lm_head:
    # transformers warns about both, which is expected here and only noise in the middle of a suite run.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
        net = AutoModelForSequenceClassification.from_pretrained(
            model_dir, num_labels=1, dtype=torch.float32, trust_remote_code=False, use_safetensors=True)
    except (OSError, ValueError, KeyError) as e:
        raise HarnessError(f"reward model base {name!r} could not be loaded from {model_dir}: {_brief(e)}") from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    # The same padding rule as the RewardTrainer: pad (else eos) marks where each sequence ends.
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    net.config.pad_token_id = tokenizer.pad_token_id
    try:
        net = PeftModel.from_pretrained(net, str(adapter_dir), is_trainable=False)
    except (RuntimeError, ValueError, KeyError, TypeError) as e:
        raise HarnessError(f"reward model {adapter_dir} does not fit base {name!r}: {_brief(e, lines=2)}") from None
    net.eval()
    identity = {"adapter": str(adapter_dir), "adapter_sha256": sha256_file(adapter_dir / WEIGHTS),
                "base_model": name, "base_sha256": base_sha}
    return HFRewardModel(net, tokenizer, identity)


def _check_head_saved(adapter_dir: Path) -> None:
    """Without its trained ``score`` head a reward adapter would score with random weights."""
    from safetensors import safe_open

    with safe_open(str(adapter_dir / WEIGHTS), framework="pt") as f:
        if not any(".score." in f".{k}." or k.endswith("score.weight") for k in f.keys()):
            raise HarnessError(
                f"{adapter_dir / WEIGHTS} holds no 'score' head weights, so its rewards would be random; "
                "re-train it with 'method: reward' (peft saves the head for task_type SEQ_CLS)"
            )
