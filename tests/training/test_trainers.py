"""The training progress output: one step bar with the loss on it, unless --verbose."""

from __future__ import annotations

import copy
import io
from types import SimpleNamespace

from tqdm.auto import tqdm
from transformers.trainer_callback import ProgressCallback

from harness.logs import QUIET_ENV
from harness.training import trainers
from harness.training.run import load_data
from tests.training.test_one_copy import _dpo_trainer
from tests.training.test_run import recipe


def test_the_logged_loss_goes_on_the_bar_not_on_a_line_of_its_own():
    out = io.StringIO()
    callback = trainers.loss_on_bar()
    callback.training_bar = tqdm(total=10, file=out)
    state = SimpleNamespace(is_world_process_zero=True)
    callback.on_log(None, state, None, logs={"loss": 0.61234, "grad_norm": 2.1, "learning_rate": 1e-4})
    callback.training_bar.refresh()
    assert "loss=0.612" in out.getvalue()
    assert "grad_norm" not in out.getvalue() and "{" not in out.getvalue()


def test_quiet_swaps_transformers_progress_for_the_loss_bar(data_dir, tiny_base, monkeypatch):
    monkeypatch.setenv(QUIET_ENV, "1")
    kinds = {type(c).__name__ for c in _dpo_trainer(data_dir, tiny_base, None).callback_handler.callbacks}
    assert "LossOnBar" in kinds and "ProgressCallback" not in kinds
    monkeypatch.delenv(QUIET_ENV)
    callbacks = _dpo_trainer(data_dir, tiny_base, None).callback_handler.callbacks
    assert any(type(c) is ProgressCallback for c in callbacks)  # --verbose: transformers' own, dicts and all


SMOL_SYSTEM = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"


def test_an_empty_system_message_replaces_the_templates_fixed_one(tokenizer):
    rows = [{"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}]},
            {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
             "completion": [{"role": "assistant", "content": "Hello"}]},
            {"text": "plain language-modelling text"}]
    out = trainers.without_default_system_prompt(rows, tokenizer)
    assert out[0]["prompt"] == [{"role": "system", "content": ""}, {"role": "user", "content": "Hi"}]
    assert out[1:] == rows[1:]  # a system message of its own, and text rows, are left as they are
    assert rows[0]["prompt"][0]["role"] == "user"  # the caller's rows are not modified
    before = tokenizer.apply_chat_template(rows[0]["prompt"], tokenize=False)
    after = tokenizer.apply_chat_template(out[0]["prompt"], tokenize=False)
    assert before == SMOL_SYSTEM + "<|im_start|>user\nHi<|im_end|>\n"
    assert after == "<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"


def test_a_template_without_a_fixed_system_prompt_keeps_its_rows(tokenizer):
    plain = copy.deepcopy(tokenizer)
    plain.chat_template = ("{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + "
                           "'<|im_end|>\n'}}{% endfor %}")
    rows = [{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "A"}],
             "rejected": [{"role": "assistant", "content": "B"}]}]
    assert trainers.without_default_system_prompt(rows, plain) == rows  # an empty one would only add tokens


def test_the_recipe_switch_reaches_the_tokenised_rows(data_dir, tiny_base):
    for keep in (True, False):
        body = f"""\
            method: sft
            base_model: {tiny_base}
            data: [sft.jsonl]
            lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
            train: {{max_steps: 1, batch_size: 1, max_length: 96, default_system_prompt: {str(keep).lower()}}}
            """
        sft = recipe(data_dir, body, f"sft-{keep}.yaml")
        trainer = trainers.build(sft, sft.trainer_args(data_dir / "ckpt", max_steps=1), str(tiny_base),
                                 load_data(sft), None, callbacks=[])
        text = trainer.processing_class.decode(trainer.train_dataset[0]["input_ids"])
        assert ("You are a helpful AI assistant" in text) is keep, text
        assert text.startswith("<|im_start|>system\n") and "How do I pick a lock" in text
