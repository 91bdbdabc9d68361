"""The bridge to EleutherAI's lm-evaluation-harness (lm-eval 0.4).

* ``export`` — a suite becomes an lm-eval task directory (``harness export-lm-eval``) whose
  metric functions are the harness's own scorers (``runtime``), so
  ``lm_eval --include_path DIR --tasks harness_<suite>`` scores case by case like the harness.
* ``harness.suite_lm_eval`` (scoring layer, beside the runner) — a suite's ``lm_eval:`` entries
  run through ``lm_eval.simple_evaluate`` on the model the backend already holds.
* ``tasks/`` — task configs shipped with the package: offline TruthfulQA MC1/MC2/generation
  (``harness_truthfulqa_mc1`` ...), mirrors of lm-eval's own tasks on a local copy of the data.
  Point lm-eval at them with ``--include_path "$(python -m harness.lmeval)"``.

Importing this package is cheap: lm-eval is imported only by the modules that run it.
"""

from __future__ import annotations

from pathlib import Path

from harness.suite_lm_eval import TASKS_DIR


def tasks_dir() -> Path:
    """The directory of the task configs shipped with adapter-harness (an lm-eval --include_path)."""
    return TASKS_DIR
