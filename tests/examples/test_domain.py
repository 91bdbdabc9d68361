"""The domain walkthrough (examples/domain): its suite, data and recipe load, fit together, and are held out."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.loader import load_suite
from harness.training.recipes import load_recipe
from harness.training.run import load_data
from harness.training_data import read_data_file

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "examples" / "domain"
SUITE = DOMAIN / "suite.yaml"
DATA = DOMAIN / "data" / "facts_sft.jsonl"


@pytest.fixture(scope="module")
def suite():
    return load_suite(SUITE)


@pytest.fixture(scope="module")
def data():
    return read_data_file(DATA)


def test_suite_loads_with_its_three_kinds_of_case(suite):
    tags = {tag for case in suite.cases for tag in case.tags}
    assert {"facts", "unknown", "general"} <= tags
    assert len([c for c in suite.cases if "facts" in c.tags]) >= 20
    assert {t.key for t in suite.thresholds} == {"pass_rate@facts", "pass_rate@unknown", "pass_rate@general"}


def test_data_is_clean_alpaca_with_30_to_40_facts(data):
    import json

    assert data.format == "alpaca" and data.skipped == []
    raw = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    facts = {r["output"] for r in raw if "fact" in r["tags"]}
    assert 30 <= len(facts) <= 40
    assert any("input" in r for r in raw)  # the optional Alpaca field is shown too
    assert {t for r in raw for t in r["tags"]} == {"fact", "not-in-data", "general"}


def test_every_fact_the_suite_checks_is_taught(suite, data):
    """Each facts case's expected strings occur in some training answer: the suite tests what the data says."""
    answers = " ".join(row["completion"][0]["content"] for row in data.rows).casefold()
    for case in suite.cases:
        if "facts" not in case.tags:
            continue
        wanted = [s for check in case.checks if check.name == "contains" for s in check.params.any]
        # a "first sentence names X" regex ('^[^.]*X') expects X too
        wanted += [check.params.pattern.removeprefix("^[^.]*") for check in case.checks
                   if check.name == "regex" and check.params.must_match]
        assert wanted and any(w.casefold() in answers for w in wanted), case.id


def test_unknown_cases_ask_about_what_the_data_never_says(suite, data):
    answers = " ".join(row["completion"][0]["content"] for row in data.rows)
    assert "I don't have that information" in answers  # the data teaches the hedge
    for word in ("earns", "revenue", "dog", "stock"):  # and never states these
        assert not any(word in row["completion"][0]["content"].lower() for row in data.rows), word
    assert len([c for c in suite.cases if "unknown" in c.tags]) >= 4


def test_recipe_loads_with_its_data():
    recipe = load_recipe(DOMAIN / "recipe.yaml")
    files = load_data(recipe)
    assert recipe.method == "sft" and recipe.base_model == "embedded"
    assert [f.path.resolve() for f in files] == [DATA.resolve()]


def test_suite_is_held_out_from_all_training_data(monkeypatch):
    from harness.gate.holdout import check_holdout

    monkeypatch.chdir(ROOT)
    report = check_holdout(["examples/domain/data", "training/data"], ["examples/domain/suite.yaml"])
    assert report.passed, report.summary()
    assert report.n_suite >= 30
