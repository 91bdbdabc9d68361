"""Reward-model training helpers: the held-out split and pairwise accuracy on it.

A reward model is only worth using in a gate if it ranks pairs it has not seen. So a share of
the preference pairs (``reward.heldout_fraction``, 20% by default) is kept out of training and,
once training ends, each held-out pair is scored: the pairwise accuracy is the share of pairs
whose chosen answer gets the higher reward.

The split is by prompt, not by row: files such as the synthetic pairs repeat a prompt with
several answers, and a held-out pair whose prompt was trained on would flatter the accuracy.
Prompts are shuffled with the recipe's seed, so the same recipe and data give the same split.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import HarnessError
from harness.training_data import DataFile


@dataclass
class RewardSplit:
    train: list[DataFile]  # the recipe's files with the held-out rows removed
    heldout: list[dict[str, Any]]  # conversational prompt/chosen/rejected rows
    heldout_prompts: int


def _prompt_key(row: dict[str, Any]) -> str:
    return "\n".join(f"{m['role']}: {' '.join(m['content'].split()).lower()}" for m in row["prompt"])


def split_heldout(files: list[DataFile], fraction: float, seed: int) -> RewardSplit:
    """Hold out about ``fraction`` of the pairs, whole prompts at a time (see the module docstring)."""
    keys = list(dict.fromkeys(_prompt_key(r) for f in files for r in f.rows))
    total = sum(len(f.rows) for f in files)
    if fraction <= 0:
        return RewardSplit(files, [], 0)
    if len(keys) < 2:
        raise HarnessError(f"reward.heldout_fraction {fraction:g} needs at least two different prompts in the data "
                           f"(found {len(keys)}); add pairs, or set 'reward: {{heldout_fraction: 0}}'")
    random.Random(seed).shuffle(keys)
    target = max(1, round(total * fraction))
    counts: dict[str, int] = {}
    for f in files:
        for r in f.rows:
            counts[_prompt_key(r)] = counts.get(_prompt_key(r), 0) + 1
    held: set[str] = set()
    taken = 0
    for key in keys:
        if taken >= target or len(held) == len(keys) - 1:  # always leave something to train on
            break
        held.add(key)
        taken += counts[key]
    heldout: list[dict[str, Any]] = []
    train: list[DataFile] = []
    for f in files:
        keep = [(line, r) for line, r in zip(f.lines, f.rows, strict=True) if _prompt_key(r) not in held]
        heldout.extend(r for r in f.rows if _prompt_key(r) in held)
        train.append(replace(f, rows=[r for _, r in keep], lines=[line for line, _ in keep]))
    return RewardSplit(train, heldout, len(held))


def heldout_metrics(model: Any, tokenizer: Any, rows: list[dict[str, Any]], *, batch_size: int = 8,
                    progress: bool = True) -> dict[str, Any]:
    """Pairwise accuracy and reward margins of ``model`` on the held-out rows."""
    from harness.backends.hf.reward import rewards

    if not rows:
        return {"pairs": 0, "accuracy": None, "mean_margin": None, "median_margin": None}
    chats = [[*r["prompt"], *r[side]] for r in rows for side in ("chosen", "rejected")]
    scores = rewards(model, tokenizer, chats, batch_size=batch_size, progress=progress, desc="held-out pairs")
    margins = [scores[i] - scores[i + 1] for i in range(0, len(scores), 2)]
    return {
        "pairs": len(rows),
        "accuracy": round(sum(m > 0 for m in margins) / len(margins), 4),
        "mean_margin": round(statistics.fmean(margins), 4),
        "median_margin": round(statistics.median(margins), 4),
    }
