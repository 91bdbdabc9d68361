"""HFBackend: the Backend protocol on a transformers model (+ optional PEFT adapter)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.backend import GenerationRequest, LoglikelihoodRequest, ModelIdentity

from .generate import Generator
from .loglik import LoglikelihoodRunner


class HFBackend:
    """Generation and loglikelihood on an already loaded model and tokenizer (float32)."""

    def __init__(self, model, tokenizer, identity: ModelIdentity, *, batch_size: int = 8, progress: bool = True):
        self.model = model
        self.tokenizer = tokenizer
        self.identity = identity
        self.batch_size = batch_size
        self._generator = Generator(model, tokenizer, batch_size=batch_size, progress=progress)
        self._loglik = LoglikelihoodRunner(model, tokenizer, batch_size=batch_size, progress=progress)
        self._lm_eval = None

    @property
    def progress(self) -> bool:
        return self._generator.progress

    @progress.setter
    def progress(self, on: bool) -> None:  # a kept backend serves callers with and without progress bars
        self._generator.progress = self._loglik.progress = on

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        """Completions (new text only, special tokens dropped, stripped), in request order."""
        return self._generator(list(requests)) if requests else []

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        """log P(continuation | context) summed over continuation tokens, in request order."""
        return self._loglik(list(requests)) if requests else []

    def render(self, prompt) -> str:
        """The text the model is given for ``prompt`` (chat turns through its chat template)."""
        from .text import render

        return render(self.tokenizer, prompt)

    def lm_eval_model(self):
        """lm-eval's HFLM around this backend's model and tokenizer (no second copy; built once)."""
        if self._lm_eval is None:
            from .lmeval import wrap_for_lm_eval

            self._lm_eval = wrap_for_lm_eval(self.model, self.tokenizer, self.batch_size)
        return self._lm_eval

    def __repr__(self) -> str:
        return f"HFBackend({self.identity.label()!r})"
