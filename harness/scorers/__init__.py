"""Built-in scorers. Importing this package registers them all in ``SCORERS``."""

from harness.scorers import finance, likelihood, politeness, refusal, reward, similarity, text, truthfulness  # noqa: F401
from harness.scorers.base import SCORERS, NoParams, Params, Score, ScoreInput, ScorerSpec, clamp01, scorer

__all__ = ["SCORERS", "NoParams", "Params", "Score", "ScoreInput", "ScorerSpec", "clamp01", "scorer"]
