"""Validate (and, with ``--fit``, fit) the ``truthful`` check against TruthfulQA's human judgements.

Data: ``$ADAPTER_HARNESS_TRUTHFULQA_JUDGE`` (default ``../shared/data/truthfulqa_judge``):
``truth_dev.jsonl`` and ``info_dev.jsonl``, TruthfulQA's own labels of ~11k answers to 408
questions (Apache-2.0), joined with the questions' references from the TruthfulQA data
(``$ADAPTER_HARNESS_TRUTHFULQA``). Cross-validated by question: 5 folds by a hash of the
question, so no question is in both the fitting and the scoring half of a fold.

    python benchmarks/validate_truthfulqa_judge.py         # report; writes benchmarks/results/truthfulqa_judge.json
    python benchmarks/validate_truthfulqa_judge.py --fit   # also refit on every fold and write the shipped trees
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import _shared
import numpy as np

from harness.scorers import truthfulness as tj

PARAMS = {"max_iter": 300, "learning_rate": 0.1, "max_leaf_nodes": 15, "random_state": 0}
OUT = Path(__file__).with_name("results") / "truthfulqa_judge.json"


def judge_dir() -> Path:
    from harness.data_paths import locate, sibling_dir

    found = locate("truthfulqa_judge")
    return found.path if found else sibling_dir("truthfulqa_judge")


def references() -> dict[str, tuple[list[str], list[str]]]:
    path = Path(os.environ["ADAPTER_HARNESS_TRUTHFULQA"]) / "generation.jsonl"
    refs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        refs[row["question"]] = (list(dict.fromkeys([row["best_answer"], *row["correct_answers"]])), row["incorrect_answers"])
    return refs


def load(name: str, key: str, refs: dict) -> list[dict]:
    rows = [json.loads(line) for line in (judge_dir() / name).read_text(encoding="utf-8").splitlines()]
    return [{"question": r["question"], "answer": r["answer"].strip(), "label": bool(r[key])}
            for r in rows if r["question"] in refs and r["answer"].strip()]


def export(clf) -> dict:
    trees = []
    for (tree,) in clf._predictors:
        n = tree.nodes
        trees.append([n["feature_idx"].tolist(), [float(t) for t in n["num_threshold"]], n["left"].tolist(),
                      n["right"].tolist(), n["is_leaf"].tolist(), [float(v) for v in n["value"]]])
    return {"baseline": float(clf._baseline_prediction.ravel()[0]), "trees": trees}


scores = _shared.binary_scores


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fit", action="store_true", help="refit on every fold and write the shipped trees")
    args = ap.parse_args()
    refs = references()
    report: dict = {"data": "TruthfulQA human judgements, shared half (408 questions), Apache-2.0", "params": PARAMS}
    shipped, cv_pred = {}, {}
    for label, file in (("truthful", "truth_dev.jsonl"), ("informative", "info_dev.jsonl")):
        rows = load(file, label, refs)
        items = [(r["question"], r["answer"], *refs[r["question"]]) for r in rows]
        X = tj.features(items)
        y = np.array([r["label"] for r in rows])
        fold = np.array([_shared.fold_of(r["question"]) for r in rows])
        pred = np.zeros(len(y), bool)
        for k in range(5):
            clf = HistGradientBoostingClassifier(**PARAMS).fit(X[fold != k], y[fold != k])
            pred[fold == k] = clf.predict(X[fold == k])
        similarity_check = X[:, 4] > 0  # today's check: closer to a true than to every false reference
        report[label] = {"judge (5-fold CV by question)": scores(pred, y),
                         "majority class": round(float(max(y.mean(), 1 - y.mean())), 3),
                         "similarity check": scores(similarity_check, y)}
        cv_pred[label] = {(r["question"], r["answer"]): p for r, p in zip(rows, pred)}
        cv_pred[label + "_truth"] = {(r["question"], r["answer"]): r["label"] for r in rows}
        if args.fit:
            clf = HistGradientBoostingClassifier(**PARAMS).fit(X, y)
            shipped[label] = export(clf)
            mine = np.array(tj.tree_ensemble_probability(shipped[label], X[:500]))
            ref = clf.predict_proba(X[:500])[:, 1]
            print("max diff", np.abs(mine - ref).max())
            assert np.allclose(mine, ref, atol=1e-5), "exported trees disagree with sklearn"
        print(f"{label:12s} CV acc {report[label]['judge (5-fold CV by question)']['accuracy']:.3f}  "
              f"majority {report[label]['majority class']:.3f}  similarity check {report[label]['similarity check']['accuracy']:.3f}")
    both = [k for k in cv_pred["truthful"] if k in cv_pred["informative"]]
    pred = np.array([cv_pred["truthful"][k] and cv_pred["informative"][k] for k in both])
    truth = np.array([cv_pred["truthful_truth"][k] and cv_pred["informative_truth"][k] for k in both])
    report["truthful and informative"] = {"judge (5-fold CV by question)": scores(pred, truth),
                                          "majority class": round(float(max(truth.mean(), 1 - truth.mean())), 3)}
    print(f"{'both':12s} CV acc {report['truthful and informative']['judge (5-fold CV by question)']['accuracy']:.3f}  "
          f"majority {report['truthful and informative']['majority class']:.3f}  (n={len(both)} answers with both labels)")
    if args.fit:
        tj.WEIGHTS.write_text(json.dumps(shipped, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {tj.WEIGHTS} ({tj.WEIGHTS.stat().st_size // 1024} KiB)")
    OUT.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
