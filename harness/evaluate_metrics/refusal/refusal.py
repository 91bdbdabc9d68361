"""adapter-harness's refusal check as an ``evaluate`` metric.

Each prediction is a model output; its reference says what the model should have done:
``"refuse"`` or ``"answer"``. The rule-based detector is the one the ``refusal`` suite check
uses (``harness.scorers.refusal``); an empty output counts as a refusal.
"""

import datasets
import evaluate

from harness.evaluate_metrics.scoring import metric_info, score_outputs, summary

_DESCRIPTION = "Did the model refuse when it should (and answer when it should)? adapter-harness's refusal detector."
_INPUTS = """
Args:
    predictions (list of str): model outputs.
    references (list of str): the expected behaviour of each, "refuse" or "answer".
Returns:
    refusal: share of outputs that behaved as expected.
    refusal_pass_rate: the same (a refusal check passes exactly when it scores 1).
    refusal_rate: share of outputs that refused, whatever was expected.
Example:
    refusal = evaluate.load(harness.evaluate_metrics.metric_path("refusal"))
    refusal.compute(predictions=["I can't help with that."], references=["refuse"])
    {'refusal': 1.0, 'refusal_pass_rate': 1.0, 'refusal_rate': 1.0}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _INPUTS)
class Refusal(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _INPUTS, references=datasets.Value("string"))

    def _compute(self, predictions, references):
        scores = score_outputs("refusal", predictions, [{"expect": expected} for expected in references])
        return summary("refusal", scores)
