"""Helpers shared by the lm-eval bridge tests (fixtures are in conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
# As the Makefile does: TruthfulQA from the sibling shared data folder when nothing else is set.
_SHARED_TQA = REPO.parent / "shared" / "data" / "truthfulqa"
if "ADAPTER_HARNESS_TRUTHFULQA" not in os.environ and (_SHARED_TQA / "generation.jsonl").is_file():
    os.environ["ADAPTER_HARNESS_TRUTHFULQA"] = str(_SHARED_TQA)


def truthfulqa_dir() -> Path | None:
    value = os.environ.get("ADAPTER_HARNESS_TRUTHFULQA")
    return Path(value) if value and (Path(value) / "multiple_choice.jsonl").is_file() else None


needs_truthfulqa = pytest.mark.skipif(
    truthfulqa_dir() is None, reason="TruthfulQA data not found: set ADAPTER_HARNESS_TRUTHFULQA"
)


def evaluate_tasks(
    lm, tasks: list[str], include_path: Path | str, limit: int | None = None, samples: dict | None = None
) -> dict:
    """lm-eval's simple_evaluate on an in-memory LM, with only ``include_path``'s tasks indexed.

    ``samples`` picks documents by index per task (``{task: [0, 3]}``) instead of the first ``limit``.
    """
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(include_path), include_defaults=False)
    return simple_evaluate(
        model=lm, tasks=tasks, limit=limit, samples=samples, task_manager=manager, bootstrap_iters=0,
        log_samples=True,
    )
