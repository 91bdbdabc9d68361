"""An SFT trainer that weights the opening of each answer.

Whether a model refuses is decided by the first few tokens of its answer ("I can't…" or "To
stop a frozen process…"). Plain SFT averages the loss over every answer token, so fitting the
wording of long helpful answers outweighs that decision by ~40 to 1 on the shipped data. Weighting
the first ``tokens`` answer tokens ``weight`` times puts the gradient where the behaviour is
decided; the rest of the answer is still learned at weight 1.

How: TRL's ``SFTTrainer`` computes per-token log-probabilities with a fused LM head (no full
logits) and takes the loss as their mean. :class:`OpeningWeightedSFTTrainer` rescales those
log-probabilities on their way back from the model, so TRL's own loss becomes the weighted mean
and no second forward pass is needed. (TRL's ``compute_loss_func`` hook, deprecated for TRL 2,
builds the full logits and runs one more forward for its metrics: 6.95 s per step against 4.56 s
for plain SFT, measured on the demo data with r 64, batch 8, 2 CPUs.)
"""

from __future__ import annotations

from typing import Any


def opening_weights(label_mask: Any, tokens: int, weight: float) -> Any:
    """Per-position factors: ``weight`` on each row's first ``tokens`` answer tokens, 1 after, 0 off the answer.

    Scaled so that over the whole batch they sum to its number of answer tokens: a mean taken with
    them is the weighted mean, and ``weight=1`` leaves every answer token at exactly 1. Here the raw
    weights 2, 1, 1 per row sum to 8 over 6 answer tokens, so each is scaled by 6/8:

    >>> import torch
    >>> opening_weights(torch.tensor([[0, 1, 1, 1], [1, 1, 1, 0]]), tokens=1, weight=2.0).tolist()
    [[0.0, 1.5, 0.75, 0.75], [1.5, 0.75, 0.75, 0.0]]
    >>> opening_weights(torch.tensor([[0, 1, 1, 1]]), tokens=2, weight=1.0).tolist()
    [[0.0, 1.0, 1.0, 1.0]]
    """
    import torch

    mask = label_mask.to(torch.float32)
    position = mask.cumsum(dim=1)  # 1 at each row's first answer token, 2 at the next...
    w = torch.where(position <= tokens, float(weight), 1.0) * mask
    return w * (mask.sum() / w.sum().clamp(min=1.0))


class _Reweighted:
    """Calls the model; rescales the fused log-probabilities it returns (TRL's loss is their mean)."""

    def __init__(self, model: Any, tokens: int, weight: float) -> None:
        self.model, self.tokens, self.weight = model, tokens, weight

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outputs = self.model(*args, **kwargs)
        if kwargs.get("fused_lm_head") and getattr(outputs, "log_probs", None) is not None:
            outputs.log_probs = outputs.log_probs * opening_weights(outputs.label_mask, self.tokens, self.weight)
        return outputs


def opening_weighted_trainer(tokens: int, weight: float) -> type:
    """A ``trl.SFTTrainer`` subclass whose loss counts each answer's first ``tokens`` tokens ``weight`` times."""
    from trl import SFTTrainer

    class OpeningWeightedSFTTrainer(SFTTrainer):
        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            return super().compute_loss(_Reweighted(model, tokens, weight), inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)

    return OpeningWeightedSFTTrainer
