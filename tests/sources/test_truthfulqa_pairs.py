"""The truthfulqa-train source: even rows only, never an evaluation question, read from a local copy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.data_paths import sibling_dir
from harness.sources.truthfulqa_pairs import TruthfulQATrainParams, load_truthfulqa_train, pairs_from_rows
from harness.training_data import DataError


def row(question: str, good=("Yes.",), bad=("No.",)) -> dict:
    return {"type": "Adversarial", "category": "Test", "question": question, "best_answer": good[0],
            "correct_answers": list(good), "incorrect_answers": list(bad), "source": "test"}


def write_dir(tmp_path: Path, rows: list[dict]) -> Path:
    (tmp_path / "generation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    mc = [{"question": r["question"], "mc1_targets": {"choices": ["a"], "labels": [1]},
           "mc2_targets": {"choices": ["a"], "labels": [1]}} for r in rows]
    (tmp_path / "multiple_choice.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mc), encoding="utf-8")
    return tmp_path


def test_only_even_rows_and_no_duplicates_of_odd_rows():
    rows = [row("Q0?"), row("Q1?"), row("Q2?"), row("Q3?"), row(" q1? "), row("Q5?")]
    pairs, lines = pairs_from_rows(rows, TruthfulQATrainParams())
    # row 4 repeats the odd (evaluation) question at row 1, so it is dropped too
    assert [p["prompt"][0]["content"] for p in pairs] == ["Q0?", "Q2?"]
    assert lines == [1, 3]


def test_pairs_per_question_and_max_rows():
    rows = [row("Q0?", good=("A", "B", "C"), bad=("X", "Y")), row("Q1?"), row("Q2?")]
    pairs, _ = pairs_from_rows(rows, TruthfulQATrainParams(pairs_per_question=3))
    assert [(p["chosen"][0]["content"], p["rejected"][0]["content"]) for p in pairs[:3]] == [("A", "X"), ("B", "Y"), ("C", "X")]
    limited, _ = pairs_from_rows(rows, TruthfulQATrainParams(pairs_per_question=3, max_rows=2))
    assert len(limited) == 2


def test_loads_a_local_directory_named_in_params(tmp_path, monkeypatch):
    monkeypatch.delenv("ADAPTER_HARNESS_TRUTHFULQA", raising=False)
    (tmp_path / "tqa").mkdir()
    write_dir(tmp_path / "tqa", [row("Q0?"), row("Q1?"), row("Q2?")])
    data = load_truthfulqa_train(TruthfulQATrainParams(data_dir="tqa"), tmp_path)
    assert data.format == "preference" and len(data.rows) == 2 and len(data.sha256) == 64
    assert data.path == tmp_path / "tqa" / "generation.jsonl"


def test_a_relative_environment_variable_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "data").mkdir()
    write_dir(tmp_path / "data", [row("Q0?"), row("Q1?"), row("Q2?")])
    (tmp_path / "recipes").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ADAPTER_HARNESS_TRUTHFULQA", "data")  # as `make` exports it: relative to the checkout
    data = load_truthfulqa_train(TruthfulQATrainParams(), tmp_path / "recipes")
    assert data.path == tmp_path / "data" / "generation.jsonl" and len(data.rows) == 2


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAPTER_HARNESS_TRUTHFULQA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="truthfulqa-train: TruthfulQA data not found"):
        load_truthfulqa_train(TruthfulQATrainParams(), tmp_path)


@pytest.mark.skipif(not (sibling_dir("truthfulqa") / "generation.jsonl").is_file(), reason="no local TruthfulQA copy")
def test_real_data_never_yields_an_evaluation_question(monkeypatch):
    monkeypatch.delenv("ADAPTER_HARNESS_TRUTHFULQA", raising=False)
    data = load_truthfulqa_train(TruthfulQATrainParams(), Path.cwd())
    generation = [json.loads(line) for line in (sibling_dir("truthfulqa") / "generation.jsonl").open(encoding="utf-8")]
    eval_questions = {" ".join(r["question"].lower().split()) for r in generation[1::2]}
    prompts = {" ".join(r["prompt"][0]["content"].lower().split()) for r in data.rows}
    assert len(data.rows) > 350
    assert not prompts & eval_questions
    assert all((line - 1) % 2 == 0 for line in data.lines)  # 1-based lines of even 0-based rows
