"""Offline TruthfulQA for lm-eval: harness_truthfulqa_mc1 / _mc2 / _gen."""
