"""A deterministic backend with canned answers: for tests of everything above the model.

``FakeBackend(respond)`` answers each generation request with ``respond(prompt_text)`` and
every log-likelihood request with ``loglikelihood(context_text, continuation)`` (by default
one constant, i.e. a model with no preference at all). It loads nothing, so verdicts,
thresholds, statistics, reports and the CLI can be tested in seconds, and degenerate models
(empty output, an echo, one constant reply) can be put through the real suites.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from harness.backend import GenerationRequest, LoglikelihoodRequest, ModelIdentity, Prompt


def prompt_text(prompt: Prompt) -> str:
    """The text of a prompt: itself, or the last user message of a conversation."""
    if isinstance(prompt, str):
        return prompt
    users = [content for role, content in prompt if role == "user"]
    return users[-1] if users else ""


class FakeBackend:
    def __init__(
        self,
        respond: Callable[[str], str],
        loglikelihood: Callable[[str, str], float] | None = None,
        name: str = "fake",
    ):
        self.identity = ModelIdentity(name)
        self._respond = respond
        self._loglikelihood = loglikelihood or (lambda context, continuation: -1.0)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        return [self._respond(prompt_text(r.prompt)) for r in requests]

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        return [self._loglikelihood(prompt_text(r.context), r.continuation) for r in requests]
