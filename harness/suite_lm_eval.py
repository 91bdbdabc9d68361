"""Run a suite's ``lm_eval:`` tasks with ``lm_eval.simple_evaluate`` on an in-memory model.

The backend hands over its loaded model as an lm-eval ``LM`` (``HFBackend.lm_eval_model``),
so no second copy is loaded. Each reported metric becomes the suite metric
``<task>/<metric>`` (with ``,<filter>`` when the filter is not lm-eval's default 'none').

Tasks are looked up in the configs shipped here (``harness/lmeval/tasks``), the entry's
``include_path``, then lm-eval's own ~15k configs — indexing those costs ~15 s, so it is
skipped when the shipped and included configs already have the task.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

from harness.errors import SuiteError
from harness.metrics import ExternalMetric
from harness.paths import resolve_from
from harness.schema import LmEvalTask, Suite

# Task configs shipped with the package (offline TruthfulQA ...): package data of the lm-eval bridge.
TASKS_DIR = Path(__file__).resolve().parent / "lmeval" / "tasks"

_MANAGERS: dict[tuple[tuple[str, ...], bool], Any] = {}


def run_suite_tasks(suite: Suite, lm: Any) -> dict[str, ExternalMetric]:
    """Every metric of every listed task, as ``{"task/metric": ExternalMetric}``."""
    metrics: dict[str, ExternalMetric] = {}
    for index, entry in enumerate(suite.lm_eval):
        manager = task_manager(suite, index, entry)
        results = _evaluate(suite, index, entry, lm, manager)
        metrics.update(metrics_of(results))
    return metrics


def include_paths(suite: Suite, index: int, entry: LmEvalTask) -> list[str]:
    paths = [str(TASKS_DIR)]
    if entry.include_path:
        path = resolve_from(Path(suite.path).parent, entry.include_path)
        if not path.is_dir():
            raise SuiteError(suite.path, entry.line, f"lm_eval[{index}].include_path", f"{path} is not a directory")
        paths.append(str(path.resolve()))
    return paths


def task_manager(suite: Suite, index: int, entry: LmEvalTask) -> Any:
    """A TaskManager that knows ``entry.task`` (cached: building one is slow)."""
    from lm_eval.tasks import TaskManager

    paths = tuple(include_paths(suite, index, entry))
    for with_defaults in (False, True):
        key = (paths, with_defaults)
        if key not in _MANAGERS:
            _MANAGERS[key] = TaskManager(include_path=list(paths), include_defaults=with_defaults)
        manager = _MANAGERS[key]
        if entry.task in manager.all_tasks:
            return manager
    close = difflib.get_close_matches(entry.task, manager.all_tasks, n=3, cutoff=0.7)
    hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "? ") if close else ""
    raise SuiteError(
        suite.path, entry.line, f"lm_eval[{index}].task",
        f"unknown lm-eval task '{entry.task}' — {hint}`lm_eval ls tasks` lists them; "
        "a task of your own needs 'include_path'",
    )


def _evaluate(suite: Suite, index: int, entry: LmEvalTask, lm: Any, manager: Any) -> dict:
    from lm_eval import simple_evaluate

    try:
        results = simple_evaluate(
            model=lm,
            tasks=[entry.task],
            num_fewshot=entry.num_fewshot,
            limit=entry.limit,
            task_manager=manager,
            bootstrap_iters=0,  # no stderr: a gate compares values, and bootstrapping costs time
            log_samples=False,
            apply_chat_template=entry.apply_chat_template,
            fewshot_as_multiturn=entry.apply_chat_template,
        )
    except Exception as exc:  # a missing dataset, a broken config ...: say which entry, keep it to one line
        message = " ".join(str(exc).split())[:400] or type(exc).__name__
        raise SuiteError(
            suite.path, entry.line, f"lm_eval[{index}] ({entry.task})", f"lm-eval failed: {type(exc).__name__}: {message}"
        ) from exc
    if not results:
        raise SuiteError(suite.path, entry.line, f"lm_eval[{index}] ({entry.task})", "lm-eval returned no results")
    return results


def metrics_of(results: dict) -> dict[str, ExternalMetric]:
    """Numeric metrics of an lm-eval results dict (tasks and groups), stderr left out.

    >>> r = {"results": {"t": {"alias": "t", "acc,none": 0.5, "acc_stderr,none": "N/A", "em,strict": 1}},
    ...      "n-samples": {"t": {"original": 10, "effective": 4}}}
    >>> sorted((k, v.value, v.n) for k, v in metrics_of(r).items())
    [('t/acc', 0.5, 4), ('t/em,strict', 1.0, 4)]
    """
    samples = results.get("n-samples", {})
    out: dict[str, ExternalMetric] = {}
    for name, values in results.get("results", {}).items():
        n = _n_samples(name, samples, results.get("group_subtasks", {}))
        for key, value in values.items():
            metric, _, filter_name = key.partition(",")
            if metric.endswith("_stderr") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            label = f"{name}/{metric}" if filter_name in ("", "none") else f"{name}/{metric},{filter_name}"
            out[label] = ExternalMetric(float(value) if math.isfinite(value) else math.nan, n)
    return out


def _n_samples(name: str, samples: dict, subtasks: dict) -> int:
    """Documents behind a task's metrics; a group's are its subtasks' together."""
    if name in samples:
        return int(samples[name].get("effective", samples[name].get("original", 0)))
    return sum(_n_samples(child, samples, subtasks) for child in subtasks.get(name, []))
