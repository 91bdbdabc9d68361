"""The transformers side of the lm-eval bridge (``harness.lmeval``).

Two things need a real model or tokenizer, so they live here, below the backend seam:

* :func:`wrap_for_lm_eval` hands lm-eval the model and tokenizer that are *already in
  memory* (lm-eval's ``HFLM`` accepts instances), so a suite's lm-eval tasks never load a
  second copy of the weights;
* :func:`prompt_renderer` turns a harness prompt into the exact text the HF backend feeds
  the tokenizer (chat turns through the model's chat template), which the exporter writes
  into lm-eval task data.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.backend import Prompt

from . import text


def wrap_for_lm_eval(model, tokenizer, batch_size: int = 8):
    """An ``lm_eval.models.huggingface.HFLM`` around ``model`` (a transformers or PEFT model)."""
    from lm_eval.models.huggingface import HFLM

    device = next(model.parameters()).device
    # A PEFT wrapper forwards .config/.device/.generate to its base model, which is all HFLM
    # uses; passing it (not the base) keeps the adapter active.
    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, device=str(device))


def prompt_renderer(model: str | None, progress: bool = False) -> tuple[Callable[[Prompt], str], str]:
    """(prompt → model input text, display name of the model) using only its tokenizer."""
    from transformers import AutoTokenizer

    from .loading import resolve_model_dir

    model_dir, name = resolve_model_dir(model, progress=progress)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
    return (lambda prompt: text.render(tokenizer, prompt)), name
