"""Built-in scorers. Importing this package registers them all in ``SCORERS``."""

from harness.scorers import likelihood, politeness, refusal, reward, similarity, text  # noqa: F401  (registration)
from harness.scorers.base import SCORERS, NoParams, Params, Score, ScoreInput, ScorerSpec, clamp01, scorer

__all__ = ["SCORERS", "NoParams", "Params", "Score", "ScoreInput", "ScorerSpec", "clamp01", "scorer"]
