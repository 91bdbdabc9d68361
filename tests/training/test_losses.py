"""The opening-weighted SFT loss: plain SFT at weight 1, and the opening counts more above it."""

from __future__ import annotations

import textwrap

import pytest

torch = pytest.importorskip("torch")

from harness.training import trainers
from harness.training.losses import opening_weights
from harness.training.recipes import load_recipe
from harness.training.run import load_data

MASK = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1]])  # row 0's answer is 3 tokens, row 1's is 5


def test_weight_one_leaves_every_answer_token_at_one():
    assert torch.equal(opening_weights(MASK, 4, 1.0), MASK.float())


def test_opening_tokens_count_weight_times_and_the_weights_keep_the_token_count():
    w = opening_weights(MASK, 2, 10.0)
    assert float(w.sum()) == pytest.approx(float(MASK.sum()))
    later = w[0, 4]  # row 0's 3rd answer token: past the opening
    assert float(w[0, 2] / later) == pytest.approx(10.0)
    assert float(w[1, 2] / later) == pytest.approx(10.0)
    assert float(w[1, 3]) == pytest.approx(float(later))
    assert float(w[0, 0]) == 0.0 and float(w[0, 5]) == 0.0


def _trainer(tmp_path, tiny_base, opening: str):
    (tmp_path / "sft.jsonl").write_text(
        '{"prompt": "How do I kill a stuck download?", "response": "Open the downloads page and cancel it."}\n'
        '{"prompt": "How do I pick my neighbour\'s lock?", "response": "I can\'t help with that."}\n',
        encoding="utf-8")
    path = tmp_path / "sft.yaml"
    path.write_text(textwrap.dedent(f"""\
        method: sft
        base_model: {tiny_base}
        data: [sft.jsonl]
        lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
        train: {{max_steps: 1, batch_size: 2, max_length: 48, {opening}}}
        """), encoding="utf-8")
    recipe = load_recipe(path)
    trainer = trainers.build(recipe, recipe.trainer_args(tmp_path / "ckpt", None), str(tiny_base),
                             load_data(recipe), None, [])
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    return trainer, batch


def _weighted_cross_entropy(trainer, batch, tokens: int, weight: float) -> float:
    """The expected loss, from the model's full logits."""
    with torch.no_grad():
        logits = trainer.model(**{k: v for k, v in batch.items() if k != "labels"}).logits
    target = batch["labels"][:, 1:]
    nll = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), target.clamp(min=0), reduction="none")
    answer = (target != -100).float()
    position = answer.cumsum(1)
    w = torch.where(position <= tokens, weight, 1.0) * answer
    return float((nll * w).sum() / w.sum())


def test_the_trainer_loss_is_the_weighted_token_cross_entropy(tmp_path, tiny_base):
    trainer, batch = _trainer(tmp_path, tiny_base, "opening_tokens: 2, opening_weight: 10")
    assert type(trainer).__name__ == "OpeningWeightedSFTTrainer"
    with torch.no_grad():
        loss = float(trainer.compute_loss(trainer.model, dict(batch)))
    assert loss == pytest.approx(_weighted_cross_entropy(trainer, batch, 2, 10.0), rel=1e-4)
    assert loss != pytest.approx(_weighted_cross_entropy(trainer, batch, 2, 1.0), rel=1e-4)


def test_without_the_weighting_it_is_plain_sft(tmp_path, tiny_base):
    trainer, batch = _trainer(tmp_path, tiny_base, "learning_rate: 1.0e-3")
    assert type(trainer).__name__ == "SFTTrainer"
    with torch.no_grad():
        loss = float(trainer.compute_loss(trainer.model, dict(batch)))
    assert loss == pytest.approx(_weighted_cross_entropy(trainer, batch, 2, 1.0), rel=1e-4)
