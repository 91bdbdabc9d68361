"""The opening-weighted SFT loss: plain SFT at weight 1, and the opening counts more above it."""

import types

import pytest

torch = pytest.importorskip("torch")

from harness.training.losses import opening_weighted_loss


def _batch():
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    # -100: prompt and padding (TRL's labels); row 0's answer is 3 tokens, row 1's is 5.
    labels = torch.tensor([[-100, -100, 3, 4, 5, -100], [-100, 1, 2, 3, 4, 5]])
    return types.SimpleNamespace(logits=logits), labels


def test_weight_one_is_plain_token_cross_entropy():
    out, labels = _batch()
    plain = torch.nn.functional.cross_entropy(out.logits[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1))
    assert float(opening_weighted_loss(4, 1.0)(out, labels)) == pytest.approx(float(plain))


def test_opening_tokens_count_weight_times():
    out, labels = _batch()
    nll = torch.nn.functional.cross_entropy(out.logits[:, :-1].transpose(1, 2), labels[:, 1:].clamp(min=0),
                                            reduction="none")
    answer = labels[:, 1:] != -100
    # the first 2 answer tokens of each row: row 0 positions 1-2, row 1 positions 0-1
    opening = torch.zeros_like(answer)
    opening[0, 1:3] = True
    opening[1, 0:2] = True
    w = torch.where(opening, 10.0, 1.0) * answer
    expected = float((nll * w).sum() / w.sum())
    assert float(opening_weighted_loss(2, 10.0)(out, labels)) == pytest.approx(expected)


def test_only_the_opening_moves_the_loss_when_it_is_weighted():
    out, labels = _batch()
    base = float(opening_weighted_loss(2, 10.0)(out, labels))
    later = out.logits.clone()
    later[1, 4, 5] += 5.0  # row 1's 5th answer token (label 5) more likely: outside the opening
    moved_late = float(opening_weighted_loss(2, 10.0)(types.SimpleNamespace(logits=later), labels)) - base
    early = out.logits.clone()
    early[1, 1, 2] += 5.0  # row 1's 2nd answer token (label 2) more likely: inside the opening
    moved_early = float(opening_weighted_loss(2, 10.0)(types.SimpleNamespace(logits=early), labels)) - base
    assert abs(moved_early) > 5 * abs(moved_late)
