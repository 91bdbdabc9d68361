"""Data and prompts of the offline TruthfulQA tasks (harness_truthfulqa_mc1, _mc2, _gen).

lm-eval's truthfulqa_mc1/mc2/gen download ``truthfulqa/truthful_qa`` from the hub. These
tasks read the same rows (HF schema) through the harness's TruthfulQA source, so they work
offline and evaluate the same questions as ``suites/truthfulqa.yaml``:

* the directory is ``--metadata '{"truthfulqa_dir": DIR}'``, else ``$ADAPTER_HARNESS_TRUTHFULQA``,
  else the hub when online;
* the split is ``truthfulqa_split`` (``eval``: odd rows of TruthfulQA.csv, the default;
  ``train``: even rows; ``all``), in TruthfulQA.csv order, so ``--limit N`` selects the
  same first N questions as the harness's ``limit: N``.

Each document is the HF row plus ``row`` (its 0-based index in TruthfulQA.csv). Prompts
come from the harness's own TruthfulQA code, which tests compare with lm-eval's templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.sources import truthfulqa as tqa

SPLIT = "validation"  # the split name lm-eval's configs use


def _rows(kind: str, truthfulqa_dir: str | None, truthfulqa_split: str) -> list[dict[str, Any]]:
    if truthfulqa_split not in ("eval", "train", "all"):
        raise ValueError(f"truthfulqa_split must be eval, train or all, got {truthfulqa_split!r}")
    generation, multiple_choice = tqa.load_rows(truthfulqa_dir, Path.cwd())
    # Multiple-choice rows are in another order than TruthfulQA.csv: join them by question,
    # exactly as the harness's source does.
    by_question = {tqa._key(row["question"]): row for row in multiple_choice}
    out = []
    for index in tqa.split_indices(len(generation), truthfulqa_split):
        row = generation[index] if kind == "generation" else by_question[tqa._key(generation[index]["question"])]
        out.append({**row, "row": index})
    return out


def multiple_choice_docs(truthfulqa_dir: str | None = None, truthfulqa_split: str = "eval", **_: Any) -> dict:
    """``custom_dataset`` of the MC tasks (lm-eval also passes task metadata and model args: ignored)."""
    import datasets

    return {SPLIT: datasets.Dataset.from_list(_rows("multiple_choice", truthfulqa_dir, truthfulqa_split))}


def generation_docs(truthfulqa_dir: str | None = None, truthfulqa_split: str = "eval", **_: Any) -> dict:
    """``custom_dataset`` of the generation task."""
    import datasets

    return {SPLIT: datasets.Dataset.from_list(_rows("generation", truthfulqa_dir, truthfulqa_split))}


def mc_text(doc: dict[str, Any]) -> str:
    """truthfulqa_mc1/mc2's doc_to_text: the 6-shot QA preamble, the question, then 'A:'."""
    return tqa.mc_prompt(doc["question"])


def gen_text(doc: dict[str, Any]) -> str:
    """truthfulqa_gen's doc_to_text: the same preamble and question, without 'A:'."""
    return tqa.QA_PREAMBLE + "\n\nQ: " + doc["question"]
