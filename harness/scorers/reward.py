"""``reward``: a trained reward model prefers the output to a reference answer.

    checks:
      - reward: {model: runs/reward, reference: "I can't help with that, but ...", min_margin: 0.0}

``model`` is a reward-model adapter from ``harness train`` with ``method: reward`` (a LoRA with
a scalar head); relative paths resolve against the working directory, like ``--adapter``. The
check scores the case's prompt with the generated output and with ``reference`` and passes when
reward(output) - reward(reference) > ``min_margin``.

The scorer sees reward models only through the :class:`RewardModel` protocol; the transformers
implementation lives in :mod:`harness.backends.hf.reward`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import Field, field_validator

from harness.backend import Prompt
from harness.scorer_api import Params, Score, ScoreInput, scorer


@runtime_checkable
class RewardModel(Protocol):
    def score(self, prompt: Prompt, responses: Sequence[str]) -> list[float]:
        """One scalar reward per response to ``prompt`` (higher = better), in order."""
        ...


def _load_hf(path: str) -> RewardModel:
    from harness.backends.hf.reward import load_reward_model

    return load_reward_model(path)


# How the scorer gets a model from a path; tests swap in fakes. The loader caches per process.
load_reward_model: Callable[[str], RewardModel] = _load_hf


class RewardParams(Params):
    model: str = Field(min_length=1)  # reward-model adapter directory
    reference: str = Field(min_length=1)  # the answer the output must beat
    min_margin: float = 0.0

    @field_validator("model")
    @classmethod
    def _exists(cls, value: str) -> str:
        # Checked when the suite loads, so a typo is reported at its YAML line, not once per case.
        path = Path(value).expanduser()
        if not path.is_dir():
            raise ValueError(
                f"reward model directory {value!r} does not exist (relative to {Path.cwd()}); train one with "
                f"'harness train training/recipes/reward.yaml --out {value}'"
            )
        if not (path / "adapter_config.json").is_file():
            raise ValueError(f"{value!r} has no adapter_config.json: not a reward-model adapter directory")
        return value

    @field_validator("reference")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank: the output is compared with this answer")
        return value


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


@scorer("reward", params=RewardParams, needs="output", metrics=("reward_margin", "reward_win"))
def reward(inp: ScoreInput, params: RewardParams) -> Score:
    """The reward model scores the output above the reference answer.

    margin = reward(output) - reward(reference); passes iff margin > min_margin;
    value = sigmoid(margin) (0.5 = a tie). Metrics: reward_margin, and reward_win = 1 when
    the margin is positive. An empty output fails without being scored.
    """
    output = (inp.output or "").strip()
    if not output:
        return Score(0.0, False, "empty output", {"reward_margin": 0.0, "reward_win": 0.0})
    model = load_reward_model(params.model)
    got, ref = model.score(inp.prompt, [output, params.reference])
    if math.isnan(got) or math.isnan(ref):
        raise ValueError(f"reward model {params.model} returned NaN")
    margin = got - ref
    passed = margin > params.min_margin
    explanation = (
        f"reward(output) {got:.2f} - reward(reference) {ref:.2f} = margin {margin:+.2f}"
        + (f" (needs > {params.min_margin:g})" if params.min_margin else "")
        + f"; reference {_short(params.reference)}"
    )
    return Score(_sigmoid(margin), passed, explanation, {"reward_margin": margin, "reward_win": float(margin > 0)})
