"""The one seam between the harness and a model.

Everything above this module (runner, scorers, pytest plugin, gate, reports) talks to
models only through :class:`Backend`. Hugging Face transformers (+PEFT) is the first
implementation (``harness.backends.hf``); vLLM or an OpenAI-compatible server can plug
in by implementing the same three members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from harness.errors import HarnessError
from harness.model_io import (  # noqa: F401  (re-exported: the Backend protocol's vocabulary)
    GenerationRequest,
    LoglikelihoodRequest,
    Messages,
    ModelIdentity,
    Prompt,
    as_messages,
)


class CapabilityUnavailable(HarnessError):
    """The backend cannot answer this kind of request at all (e.g. a server that returns no prompt
    log-probabilities). The runner reports the checks that need it as not evaluated, never as a score."""


@runtime_checkable
class RendersPrompts(Protocol):
    """An optional backend capability: a prompt as the model sees it (its chat template applied)."""

    def render(self, prompt: Prompt) -> str: ...


@dataclass(frozen=True)
class ServerOptions:
    """Where a served model is: an OpenAI-compatible server (``--backend openai-compatible``)."""

    base_url: str
    fingerprint: str | None = None  # what the user vouches the served weights are (recorded, keys the cache)
    max_concurrency: int = 4
    timeout: float = 120.0


def capability(backend: object, protocol: type) -> object | None:
    """The layer of ``backend`` that implements the optional ``protocol``, None when none does.

    Wrappers (the result cache) keep the backend they wrap in ``inner``.
    """
    layer: object | None = backend
    while layer is not None and not isinstance(layer, protocol):
        layer = getattr(layer, "inner", None)
    return layer


@runtime_checkable
class Backend(Protocol):
    identity: ModelIdentity

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        """Completions, in request order. Implementations batch internally."""
        ...

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        """Summed continuation log-probs, in request order. Implementations batch internally."""
        ...
