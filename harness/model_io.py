"""What goes into a model and what identifies it: plain data, no models (core layer).

Prompts, the two kinds of request every backend answers, and the identity a result is traced
to. Backends (``harness.backend``), results, suites and the run store all share these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

# A prompt is either raw text (sent to the model as is) or a chat conversation
# (a list of {"role", "content"} dicts) that the backend renders with the model's own
# chat template, ending with the assistant's turn opened.
Messages = tuple[tuple[str, str], ...]  # ((role, content), ...) — hashable, so requests can be keys
Prompt = Union[str, Messages]


def as_messages(messages: Sequence[dict[str, str]]) -> Messages:
    """Freeze a list of chat message dicts into the hashable form requests use.

    >>> as_messages([{"role": "user", "content": "hi"}])
    (('user', 'hi'),)
    """
    return tuple((m["role"], m["content"]) for m in messages)


@dataclass(frozen=True)
class GenerationRequest:
    prompt: Prompt
    max_new_tokens: int = 128
    greedy: bool = True
    temperature: float = 1.0
    seed: int = 0


@dataclass(frozen=True)
class LoglikelihoodRequest:
    """log P(continuation | context), summed over the continuation's tokens."""

    context: Prompt
    continuation: str


@dataclass(frozen=True)
class ModelIdentity:
    """What was evaluated: recorded in results so a score can be traced to weights."""

    model: str
    adapter: str | None = None
    model_sha256: str | None = None
    adapter_sha256: str | None = None
    details: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # sha256 of the tokenizer files and chat template: they turn prompts into tokens, so a
    # cached result is only valid for the same ones. None = unknown (results are not cached).
    tokenizer_sha256: str | None = None

    def label(self) -> str:
        return self.model if self.adapter is None else f"{self.model} + {self.adapter}"
