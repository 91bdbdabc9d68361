"""Built-in scorers. Importing this package registers them all in ``SCORERS``."""

from harness.scorer_api import SCORERS, NoParams, Params, Score, ScoreInput, ScorerSpec, clamp01, scorer
from harness.scorers import finance, likelihood, politeness, refusal, reward, similarity, text, truthfulness  # noqa: F401

__all__ = ["SCORERS", "NoParams", "Params", "Score", "ScoreInput", "ScorerSpec", "clamp01", "scorer"]
