"""The shipped recipes and data: valid, large enough, reproducible, and held out from the suites."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
import yaml

from harness.data_paths import sibling_dir
from harness.training.recipes import load_recipe
from harness.training.run import load_data
from harness.training.synth import generate
from harness.training_data import prompt_texts, read_data_file

ROOT = Path(__file__).resolve().parents[2]
DATA = sorted((ROOT / "training" / "data").glob("*.jsonl"))
RECIPES = sorted((ROOT / "training" / "recipes").glob("*.yaml"))


def norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$%]+", text.lower()))


def suite_prompts() -> list[tuple[str, str]]:
    out = []
    for path in sorted((ROOT / "suites").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")).get("cases", []):
            text = case.get("prompt") or "\n".join(m["content"] for m in case.get("messages", []) if m["role"] == "user")
            out.append((f"{path.name}:{case['id']}", text))
    return out


def test_every_shipped_file_is_valid_with_no_bad_rows():
    assert DATA, "no shipped training data"
    for path in DATA:
        assert read_data_file(path).skipped == []


def test_enough_sft_and_preference_rows():
    counts = {"sft": 0, "preference": 0}
    for path in DATA:
        data = read_data_file(path)
        counts[data.kind] += len(data.rows)
    # Enough to teach each behaviour, few enough that every file trains in minutes on 2 CPUs
    # (the preference side includes answer_pref.jsonl and pairs_pref.jsonl: one pair per SFT row;
    # the SFT side the 160 harmful / benign look-alike pairs of refusals_pairs_a/b/c.jsonl).
    # (+ 50 money pairs and 70 benign look-alike pairs, issue 23; session 14: + 10 red-flag pairs,
    # the 39 risky-answer pairs of experiment exp8, 24 card-debt answers and 16 privacy pairs;
    # session 17: the pairs of experiments exp15 and exp16, 103 + 40 against the base model's own
    # answers and 36 discrimination / privacy pairs; session 21: the 28 short-format answers of
    # experiment exp26, which no shipped recipe trains on)
    assert 450 <= counts["sft"] <= 750 and 150 <= counts["preference"] <= 1100, counts


@pytest.mark.slow  # loads the embedded model or embeds every training row: left out of make test-fast
def test_refusal_data_teaches_both_directions():
    """Harmful requests are refused, look-alike benign ones answered (so the adapter does not refuse everything)."""
    from harness.scorers.refusal import detect_refusal

    for name in ("refusals_sft.jsonl", "refusals_pref.jsonl", "refusals_pairs_a.jsonl", "refusals_pairs_b.jsonl",
                 "refusals_pairs_c.jsonl", "refusals_pairs_d.jsonl", "refusals_discr_pref.jsonl"):
        for line in (ROOT / "training" / "data" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            answer = row["messages"][-1]["content"] if "messages" in row else row["chosen"]
            refused = detect_refusal(answer).refused
            assert refused == ("harmful" in row["tags"]), (name, answer)


def test_synth_file_is_what_the_command_makes():
    shipped = [json.loads(line) for line in (ROOT / "training/data/synth_pref.jsonl").read_text().splitlines()]
    assert shipped == generate(100, seed=0)  # `harness synth --out training/data/synth_pref.jsonl --n 100 --seed 0`


@pytest.mark.parametrize("name, sources", [
    ("pairs_pref", ("refusals_pairs_a", "refusals_pairs_b", "finance_sft")),
    ("finance_answer_pref", ("finance_sft",)),
])
def test_answer_pair_files_are_what_the_command_makes(name, sources):
    """`harness synth --answers-from SOURCES` made these files (answer_pref.jsonl has its own test
    in test_synth.py)."""
    from harness.training.synth import answer_pairs

    shipped = [json.loads(line) for line in (ROOT / f"training/data/{name}.jsonl").read_text().splitlines()]
    assert shipped == answer_pairs([ROOT / f"training/data/{s}.jsonl" for s in sources])


def test_benign_answer_pairs_are_every_second_answer_pair():
    """benign_answer_pref.jsonl (DPO: answer over refusal) is every second "answer" pair of
    pairs_pref.jsonl, the rest of that file being left to SFT's matched pairs."""
    pairs = [json.loads(line) for line in (ROOT / "training/data/pairs_pref.jsonl").read_text().splitlines()]
    shipped = [json.loads(line) for line in (ROOT / "training/data/benign_answer_pref.jsonl").read_text().splitlines()]
    answers = [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in pairs if r["topic"].startswith("answer:")]
    assert shipped == answers[::2]


@pytest.mark.slow  # loads the embedded model or embeds every training row: left out of make test-fast
def test_no_training_prompt_copies_a_suite_prompt():
    """Exact and near-exact (character-level) copies; the gate's embedding check covers paraphrases."""
    suites = [(where, norm(text)) for where, text in suite_prompts()]
    assert len(suites) > 50
    close = []  # every near-copy at once, so one run shows all the rows to rewrite
    for path in DATA:
        for line, prompt in prompt_texts(read_data_file(path)):
            mine = norm(prompt)
            for where, theirs in suites:
                matcher = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
                if matcher.real_quick_ratio() < 0.75 or matcher.quick_ratio() < 0.75:
                    continue
                if (ratio := matcher.ratio()) >= 0.75:
                    close.append(f"{path.name}:{line} is {ratio:.3f} to {where}: {prompt!r}")
    assert not close, "training prompts too close to a suite prompt (limit 0.75):\n" + "\n".join(close)


@pytest.mark.skipif(not (sibling_dir("truthfulqa") / "generation.jsonl").is_file(), reason="no local TruthfulQA copy")
def test_no_truthfulqa_question_is_committed():
    questions = [json.loads(line)["question"].strip() for line in (sibling_dir("truthfulqa") / "generation.jsonl").open(encoding="utf-8")]
    text = "\n".join(p.read_text(encoding="utf-8") for p in DATA)
    assert [q for q in questions if q in text] == []


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_shipped_recipes_load_with_their_data(path, monkeypatch):
    recipe = load_recipe(path)
    if any(source for _, source, _ in recipe.data_items()) and not (sibling_dir("truthfulqa") / "generation.jsonl").is_file():
        pytest.skip("recipe uses truthfulqa-train and there is no local TruthfulQA copy")
    monkeypatch.delenv("ADAPTER_HARNESS_TRUTHFULQA", raising=False)
    files = load_data(recipe)
    assert all(f.rows for f in files)
    assert recipe.base_model == "embedded"


def test_money_answers_teach_none_of_the_faults_the_gate_rejects():
    """Every money answer trained towards (SFT responses, chosen sides of pairs) passes the validated
    red-flag and arithmetic checks: the data must not teach what the finance suite fails."""
    from harness.scorers.finance import red_flags, wrong_calculations

    files = sorted((ROOT / "training" / "data").glob("finance_*.jsonl"))
    assert len(files) >= 5
    for path in files:
        for row in read_data_file(path).rows:
            answer = (row.get("completion") or row["chosen"])[-1]["content"]  # rows come normalised to chat form
            assert not red_flags(answer) and not wrong_calculations(answer), (path.name, answer)


def test_every_experiment_recipe_is_valid_and_its_data_files_are_here():
    """The experiment recipes are the record of issue 23's runs: each must still load and re-run."""
    never_committed = {("sft_exp3.yaml", "../../data/finance_redflag_sft.jsonl")}  # said in its header
    missing = []
    for path in sorted((ROOT / "training" / "recipes" / "experiments").glob("*.yaml")):
        recipe = load_recipe(path)
        missing += [(path.name, shown) for shown, source, _ in recipe.data_items()
                    if source is None and not recipe.resolve(shown).is_file()]
    assert set(missing) == never_committed
