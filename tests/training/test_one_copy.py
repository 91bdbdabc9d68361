"""Memory: one full copy of the base model at a time (issue 23, item 4).

Evaluation and training never hold two full copies of the base weights: training first drops the
models an earlier evaluation kept in this process, and DPO's reference model is the policy with its
adapter disabled (a fresh LoRA) or a frozen LoRA copy of the adapter it continues (SFT -> DPO),
never a second base model.
"""

from __future__ import annotations

import gc
import weakref

from harness.training import trainers
from harness.training.run import load_data, train
from tests.training.test_run import recipe, sft_recipe


def _elements(module) -> int:
    """Parameter elements of a module, each storage counted once (tied weights are one copy)."""
    seen, total = set(), 0
    for p in module.parameters():
        if p.data_ptr() not in seen:
            seen.add(p.data_ptr())
            total += p.numel()
    return total


def test_training_frees_the_evaluation_model_first(data_dir, tiny_base):
    from harness.backends import load_backend

    backend = load_backend(str(tiny_base), progress=False)
    evaluated = weakref.ref(backend.model)
    del backend
    train(sft_recipe(data_dir, base=str(tiny_base)), data_dir / "sft", max_steps=1)
    gc.collect()
    assert evaluated() is None  # the evaluation model was released, not kept beside the trained one


def _dpo_trainer(data_dir, tiny_base, init: str | None):
    body = f"""\
        method: dpo
        base_model: {tiny_base}
        data: [pref.jsonl]
        {"init_adapter: " + init if init else "lora: {r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}"}
        train: {{max_steps: 1, batch_size: 1, max_length: 48}}
        """
    dpo = recipe(data_dir, body, "dpo.yaml")
    args = dpo.trainer_args(data_dir / "ckpt", max_steps=1)
    return trainers.build(dpo, args, str(tiny_base), load_data(dpo),
                          data_dir / init if init else None, callbacks=[])


def test_dpo_reference_is_never_a_second_base_model(data_dir, tiny_base):
    from transformers import AutoModelForCausalLM

    base = _elements(AutoModelForCausalLM.from_pretrained(tiny_base))
    train(sft_recipe(data_dir, base=str(tiny_base)), data_dir / "sft", max_steps=1)
    for init in (None, "sft"):  # a new LoRA, and continuing the SFT adapter
        trainer = _dpo_trainer(data_dir, tiny_base, init)
        assert trainer.ref_model is None  # TRL takes the reference from the adapter-disabled model
        held = _elements(trainer.model)
        assert base <= held < 1.1 * base, (init, held, base)  # the base once, plus LoRA matrices
