"""The ``truthfulqa-train`` data source: TruthfulQA preference pairs built at training time.

Only the training half is used: the questions at EVEN 0-based row index of ``generation.jsonl``
(the order of TruthfulQA.csv). The odd rows are the evaluation split of the ``truthfulqa``
suite source and never enter training; an even-row question whose text also occurs among
the odd rows is dropped as well, so no evaluation question can leak in through a duplicate.
Pairs are ``chosen`` = a correct answer (best answer first), ``rejected`` = an incorrect one.

The rows are read from the local copy (never committed to the repository), found in order at:
the source's ``data_dir`` parameter (relative to the recipe), ``$ADAPTER_HARNESS_TRUTHFULQA``,
``<repo>/../shared/data/truthfulqa``, else the Hugging Face hub when online.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.sources.truthfulqa import FILES, load_rows, split_indices
from harness.training_data import DataError, DataFile

SOURCE_NAME = "truthfulqa-train"


class TruthfulQATrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pairs_per_question: int = Field(1, ge=1, le=20)
    max_rows: int | None = Field(None, ge=1)  # the first N pairs, in question order
    data_dir: str | None = None


def resolve_dir(params: TruthfulQATrainParams, base_dir: Path) -> Path | None:
    """The local data directory to read, or None to fall back to the hub (see harness.data_paths)."""
    from harness.data_paths import locate

    found = locate("truthfulqa", params.data_dir, base_dir)
    return found.path if found else None


def _norm(question: str) -> str:
    return " ".join(question.lower().split())


def pairs_from_rows(generation: list[dict], params: TruthfulQATrainParams) -> tuple[list[dict], list[int]]:
    """(preference rows, 1-based source line) from the even rows of ``generation``.

    >>> rows = [{"question": f"Q{i}?", "best_answer": "yes", "correct_answers": ["yes", "indeed"],
    ...          "incorrect_answers": ["no"]} for i in range(4)]
    >>> pairs, lines = pairs_from_rows(rows, TruthfulQATrainParams(pairs_per_question=2))
    >>> lines, [p["prompt"][0]["content"] for p in pairs]
    ([1, 1, 3, 3], ['Q0?', 'Q0?', 'Q2?', 'Q2?'])
    >>> [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs[:2]]
    [('yes', 'no'), ('indeed', 'no')]
    """
    held_out = {_norm(generation[i]["question"]) for i in split_indices(len(generation), "eval")}
    rows: list[dict] = []
    lines: list[int] = []
    for index in split_indices(len(generation), "train"):
        assert index % 2 == 0, "only even (training) rows may be used"
        row = generation[index]
        question = row["question"].strip()
        if _norm(question) in held_out:
            continue
        good = [a.strip() for a in dict.fromkeys([row["best_answer"], *row["correct_answers"]]) if a.strip()]
        bad = [a.strip() for a in row["incorrect_answers"] if a.strip()]
        if not good or not bad:
            continue
        for k in range(min(params.pairs_per_question, max(len(good), len(bad)))):
            rows.append({
                "prompt": [{"role": "user", "content": question}],
                "chosen": [{"role": "assistant", "content": good[k % len(good)]}],
                "rejected": [{"role": "assistant", "content": bad[k % len(bad)]}],
            })
            lines.append(index + 1)
    if params.max_rows is not None:
        rows, lines = rows[: params.max_rows], lines[: params.max_rows]
    return rows, lines


def load_truthfulqa_train(params: TruthfulQATrainParams, base_dir: Path) -> DataFile:
    """The ``truthfulqa-train`` preference rows as a :class:`DataFile` (format ``preference``)."""
    from harness.sources import SourceUnavailable

    directory = resolve_dir(params, base_dir)
    try:
        generation, _ = load_rows(str(directory) if directory else None, base_dir)
    except SourceUnavailable as exc:
        raise DataError(SOURCE_NAME, None, None, str(exc)) from None
    rows, lines = pairs_from_rows(generation, params)
    if not rows:
        raise DataError(SOURCE_NAME, None, None, "no usable training questions in the TruthfulQA data")
    if directory:
        path = directory / FILES["generation"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    else:  # from the hub: hash what was read
        path = Path(f"hf://truthfulqa/truthful_qa/{FILES['generation']}")
        digest = hashlib.sha256(repr([r["question"] for r in generation]).encode()).hexdigest()
    return DataFile(path, "preference", rows, lines, digest)
