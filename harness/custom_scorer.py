"""User scorers named ``module:function``, so teams add checks without touching the harness.

The function takes the generated text and the check's parameters as keywords and
returns a :class:`Score`, a bool (pass/fail) or a float in [0, 1] (passes at >= 0.5)::

    # myteam/checks.py
    def mentions_ticket(output: str, prefix: str = "JIRA-") -> bool:
        return prefix in output

    # suite.yaml
    checks:
      - myteam.checks:mentions_ticket: {prefix: "OPS-"}
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from pydantic import ConfigDict

from harness.errors import HarnessError
from harness.scorer_api import Params, Score, ScoreInput, ScorerSpec, clamp01


class CustomParams(Params):
    """Any keyword arguments; the user's function checks them itself."""

    model_config = ConfigDict(extra="allow", frozen=True)


def load_custom(target: str) -> ScorerSpec:
    """Import ``module:function`` and wrap it as a scorer."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise HarnessError(f"custom check {target!r} must look like 'package.module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HarnessError(
            f"custom check {target!r}: cannot import {module_name!r} ({exc}); "
            "put the module on PYTHONPATH or install its package"
        ) from None
    fn = getattr(module, attr, None)
    if fn is None or not callable(fn):
        raise HarnessError(f"custom check {target!r}: {module_name!r} has no function {attr!r}")

    def run(inp: ScoreInput, params: CustomParams) -> Score:
        result = fn(inp.output or "", **(params.model_extra or {}))
        return _as_score(target, result)

    doc = inspect.getdoc(fn) or ""
    return ScorerSpec(target, run, CustomParams, "output", (), None, doc)


def _as_score(target: str, result: Any) -> Score:
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score(float(result), result, f"{target} returned {result}")
    if isinstance(result, (int, float)):
        value = clamp01(float(result))
        return Score(value, value >= 0.5, f"{target} returned {result:.3f}")
    raise HarnessError(f"custom check {target!r} returned {type(result).__name__}; return a Score, bool or float")
