"""adapter-harness's length check as an ``evaluate`` metric.

Predictions only: each output's word count is held against ``min_words`` / ``max_words``
as the ``length`` suite check does (``harness.scorers.text``): 1 inside the bounds,
falling off quadratically outside them.
"""

import evaluate

from harness.evaluate_metrics.scoring import mean, metric_info, score_outputs, summary
from harness.scorers.text import count_words

_DESCRIPTION = "Word counts of model outputs held against bounds, scored as adapter-harness's length check."
_INPUTS = """
Args:
    predictions (list of str): model outputs.
    min_words (int, optional), max_words (int, optional): the bounds (at least one).
Returns:
    length: mean score (1 within bounds; (words/min_words)^2 or (max_words/words)^2 outside).
    length_pass_rate: share of outputs within bounds.
    words: mean word count.
Example:
    length = evaluate.load(harness.evaluate_metrics.metric_path("length"))
    length.compute(predictions=["one two three"], max_words=2)["length"]
    0.4444444444444444
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _INPUTS)
class Length(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _INPUTS)

    def _compute(self, predictions, min_words=None, max_words=None):
        bounds = {k: v for k, v in (("min_words", min_words), ("max_words", max_words)) if v is not None}
        out = summary("length", score_outputs("length", predictions, [bounds] * len(predictions)))
        out["words"] = mean([float(count_words(p)) for p in predictions])
        return out
