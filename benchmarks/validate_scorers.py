"""Validate the rule-based scorers against labelled data they were not written against.

- politeness: hand-labelled replies; ``politeness_dev.yaml`` guided the rules, ``politeness_heldout.yaml``
  was written before that revision and is only measured here (the figure to trust).
- no_red_flags / arithmetic: hand-labelled money answers (``finance_checks.yaml``), never used to tune them.
- similarity's off-topic floor: TruthfulQA answers scored against their own question's true references
  and against another question's (``$ADAPTER_HARNESS_TRUTHFULQA_JUDGE``; skipped without the data).

    python benchmarks/validate_scorers.py    # prints the table; writes benchmarks/results/scorers_validation.json
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import _shared
import yaml

from harness.scorers.finance import red_flags, wrong_calculations
from harness.scorers.politeness import politeness_score

DATA = _shared.REPO / "tests" / "scorers" / "data"
OUT = Path(__file__).with_name("results") / "scorers_validation.json"


binary = _shared.binary_scores


def politeness() -> dict:
    out = {}
    for split in ("dev", "heldout"):
        rows = yaml.safe_load((DATA / f"politeness_{split}.yaml").read_text(encoding="utf-8"))
        # the positive class is "not polite": what the scorer must catch
        pred = [politeness_score(r["text"])[0] < 0.5 for r in rows]
        out[split] = binary(pred, [not r["polite"] for r in rows])
    return out


def finance() -> dict:
    rows = yaml.safe_load((DATA / "finance_checks.yaml").read_text(encoding="utf-8"))
    return {"no_red_flags": binary([bool(red_flags(r["text"])) for r in rows["red_flags"]], [r["flag"] for r in rows["red_flags"]]),
            "arithmetic": binary([bool(wrong_calculations(r["text"])) for r in rows["wrong_math"]],
                                 [r["wrong"] for r in rows["wrong_math"]])}


def similarity_floor() -> dict | None:

    from harness.data_paths import locate
    from harness.scorers.similarity import OFF_TOPIC_FLOOR, get_embedder

    judge_found, tqa_found = locate("truthfulqa_judge"), locate("truthfulqa")
    if judge_found is None or tqa_found is None:
        return None
    judge, tqa = judge_found.path, tqa_found.path
    if not (judge / "info_dev.jsonl").is_file() or not (tqa / "generation.jsonl").is_file():
        return None
    refs = {}
    for line in (tqa / "generation.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        refs[row["question"]] = list(dict.fromkeys([row["best_answer"], *row["correct_answers"]]))
    rows = [json.loads(line) for line in (judge / "info_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["question"] in refs and r["answer"].strip()]
    rng = random.Random(0)
    sample = rng.sample(rows, 2000)
    questions = sorted(refs)
    embedder = get_embedder()
    on, off = [], []
    for r in sample:
        if not r["informative"]:
            continue
        on.append(max(embedder.similarities(r["answer"].strip(), refs[r["question"]])))
        other = rng.choice([q for q in questions if q != r["question"]][:50] or questions)
        off.append(max(embedder.similarities(r["answer"].strip(), refs[other])))
    return {"floor": OFF_TOPIC_FLOOR, "informative on-topic answers below the floor": round(sum(v < OFF_TOPIC_FLOOR for v in on) / len(on), 3),
            "off-topic answers at or above the floor": round(sum(v >= OFF_TOPIC_FLOOR for v in off) / len(off), 3),
            "n": len(on)}


def main() -> None:
    report = {"politeness (positive = not polite)": politeness(), "finance checks (positive = fault)": finance(),
              "similarity off-topic floor (TruthfulQA)": similarity_floor()}
    OUT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
