"""The harness's scorers as Hugging Face ``evaluate`` metrics, loadable offline from the package.

Each metric is a local ``evaluate`` module script (``<name>/<name>.py``); ``evaluate.load``
copies it into its module cache and imports it, so nothing is fetched from the hub::

    import evaluate
    from harness.evaluate_metrics import metric_path

    refusal = evaluate.load(metric_path("refusal"))
    refusal.compute(predictions=["I can't help with that."], references=["refuse"])
    # {'refusal': 1.0, 'refusal_rate': 1.0}

Scores come from the registered scorers themselves (``scoring.score_outputs``), so a metric
and the matching suite check always agree.
"""

from __future__ import annotations

from pathlib import Path

METRICS = ("refusal", "politeness", "similarity", "length")
_HERE = Path(__file__).resolve().parent


def metric_path(name: str) -> str:
    """The directory to pass to ``evaluate.load`` for one of :data:`METRICS`.

    >>> Path(metric_path("refusal")).name
    'refusal'
    """
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
    return str(_HERE / name)
