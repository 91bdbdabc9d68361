"""The training progress output: one step bar with the loss on it, unless --verbose."""

from __future__ import annotations

import io
from types import SimpleNamespace

from tqdm.auto import tqdm
from transformers.trainer_callback import ProgressCallback

from harness.logs import QUIET_ENV
from harness.training import trainers
from tests.training.test_one_copy import _dpo_trainer


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
