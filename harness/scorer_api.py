"""The scorer extension point: small registered functions returning a typed Score.

Core layer: the types and the registry only. The built-in scorers (``harness.scorers``) register
into ``SCORERS`` when it is first looked up, so suites can be validated without this module
importing anything above it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.model_io import LoglikelihoodRequest, Prompt
from harness.registry import Registry


@dataclass(frozen=True)
class Score:
    """One check's verdict on one case.

    ``value`` is in [0, 1] (1 = best); ``metrics`` holds per-case numbers that the
    runner averages into suite metrics (for example ``refusal_rate``: 1.0 if the
    output refused, whatever was expected).
    """

    value: float
    passed: bool
    explanation: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    # Set when the scorer could not score the case (it raised): then the case is an error,
    # not a score; its value is left out of every metric and its suite fails.
    error: str | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.value <= 1.0:
            raise ValueError(f"score value {self.value} is outside [0, 1]")


class Params(BaseModel):
    """Base for a scorer's parameters, as written under the check in YAML."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


@dataclass(frozen=True)
class ScoreInput:
    """What a scorer sees for one case."""

    prompt: Prompt  # the rendered case prompt (raw text or messages)
    output: str | None  # the generated text; None for log-likelihood-only checks
    loglikelihoods: Sequence[float] = ()  # answers to this check's own requests, in order
    tags: tuple[str, ...] = ()


ScoreFn = Callable[[ScoreInput, Any], Score]
RequestFn = Callable[[Prompt, Any], list[LoglikelihoodRequest]]


@dataclass(frozen=True)
class ScorerSpec:
    """A registered scorer.

    needs="output": the case is generated and ``fn`` scores the text.
    needs="loglikelihood": ``requests(prompt, params)`` lists what to score and
    ``fn`` receives the answers in ``ScoreInput.loglikelihoods``.
    ``metrics`` names every key ``fn`` may put in ``Score.metrics`` (besides the
    scorer's own name, which always carries ``Score.value``), so suites can be
    validated before a model is loaded.
    ``prepare``, if set, is called once with every (input, params) the run will score,
    before the first ``fn`` call: a scorer that runs a model of its own batches that work there.
    """

    name: str
    fn: ScoreFn
    params: type[Params]
    needs: Literal["output", "loglikelihood"]
    metrics: tuple[str, ...] = ()
    requests: RequestFn | None = None
    doc: str = ""
    prepare: Callable[[list[tuple[ScoreInput, Any]]], None] | None = None

    def metric_names(self, params: Any = None) -> tuple[str, ...]:
        return (self.name, *self.metrics)


SCORERS: Registry[ScorerSpec] = Registry("check", builtins="harness.scorers")


def scorer(
    name: str,
    *,
    params: type[Params] = NoParams,
    needs: Literal["output", "loglikelihood"] = "output",
    metrics: Sequence[str] = (),
    requests: RequestFn | None = None,
    prepare: Callable[[list[tuple[ScoreInput, Any]]], None] | None = None,
) -> Callable[[ScoreFn], ScoreFn]:
    """Register ``fn(inp: ScoreInput, params) -> Score`` under ``name``."""

    def register(fn: ScoreFn) -> ScoreFn:
        SCORERS.add(
            name,
            ScorerSpec(name, fn, params, needs, tuple(metrics), requests, (fn.__doc__ or "").strip(), prepare),
        )
        return fn

    return register


def clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else float(x)
