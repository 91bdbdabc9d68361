"""An SFT loss that weights the opening of each answer (passed to TRL as ``compute_loss_func``).

Whether a model refuses is decided by the first few tokens of its answer ("I can't…" or "To
stop a frozen process…"). Plain SFT averages the loss over every answer token, so fitting the
wording of long helpful answers outweighs that decision by ~40 to 1 on the shipped data. Weighting
the first ``tokens`` answer tokens ``weight`` times puts the gradient where the behaviour is
decided; the rest of the answer is still learned at weight 1.

Cost: TRL's own loss uses a fused LM head; with ``compute_loss_func`` it builds the full logits
and runs one more forward pass for its metrics. Measured on the demo data (r 64, batch 8, 2 CPUs):
6.95 s per step against 4.56 s for plain SFT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def opening_weighted_loss(tokens: int, weight: float) -> Callable[..., Any]:
    """Token cross-entropy where each row's first ``tokens`` answer tokens count ``weight`` times.

    Labels are TRL's: ``-100`` outside the answer. The mean is over the weights, so ``weight=1``
    is exactly the usual SFT loss.
    """
    import torch

    def loss(outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs.logits[:, :-1, :]
        target = labels[:, 1:]
        answer = target != -100
        nll = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2).float(), target.clamp(min=0), reduction="none"
        )
        position = answer.cumsum(dim=1)  # 1 for the first answer token of the row, 2 for the next...
        w = torch.where(position <= tokens, weight, 1.0) * answer
        return (nll * w).sum() / w.sum().clamp(min=1.0)

    return loss
