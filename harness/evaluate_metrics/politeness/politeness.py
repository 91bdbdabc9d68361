"""adapter-harness's politeness check as an ``evaluate`` metric.

Predictions only (politeness needs no reference): each output gets the courtesy score of
the ``politeness`` suite check (``harness.scorers.politeness``; neutral text is about 0.7).
"""

import evaluate

from harness.evaluate_metrics.scoring import metric_info, score_outputs, summary

_DESCRIPTION = "Courtesy of model outputs in [0, 1] (rude or insulting markers pull it down), from adapter-harness."
_INPUTS = """
Args:
    predictions (list of str): model outputs.
    min_score (float, optional): an output passes at this score or above (default 0.5).
Returns:
    politeness: mean courtesy score.
    politeness_pass_rate: share of outputs scoring at least min_score.
Example:
    politeness = evaluate.load(harness.evaluate_metrics.metric_path("politeness"))
    politeness.compute(predictions=["Thank you, happy to help!"])["politeness_pass_rate"]
    1.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _INPUTS)
class Politeness(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _INPUTS)

    def _compute(self, predictions, min_score=0.5):
        return summary("politeness", score_outputs("politeness", predictions, [{"min_score": min_score}] * len(predictions)))
