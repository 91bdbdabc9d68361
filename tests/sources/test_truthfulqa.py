"""TruthfulQA source: splits, MC join, limits, missing data, and lm-eval prompt parity.

The data is read at run time from ``<repo>/../shared/data/truthfulqa`` (never copied
into the repository); tests that need it are skipped when it is absent.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from harness.sources import SOURCES, SourceUnavailable
from harness.sources import truthfulqa as tqa

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "truthfulqa"
needs_data = pytest.mark.skipif(
    not (DATA / "generation.jsonl").is_file(),
    reason=f"TruthfulQA data not found at {DATA} (see harness/sources/truthfulqa.py for how to provide it)",
)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv(tqa.DATA_ENV, str(DATA))


def load(**params):
    return SOURCES.get("truthfulqa").load(tqa.TruthfulQAParams(**params), REPO / "suites")


def row_index(case: dict) -> int:
    return int(case["id"].split("-")[1])


def generation_questions() -> list[str]:
    with open(DATA / "generation.jsonl", encoding="utf-8") as f:
        return [json.loads(line)["question"] for line in f]


# ------------------------------------------------------------------ splits


@needs_data
def test_eval_split_is_the_odd_rows_and_train_the_even_rows():
    n = len(generation_questions())
    eval_rows = {row_index(c) for c in load(split="eval")}
    train_rows = {row_index(c) for c in load(split="train")}
    assert eval_rows == set(range(1, n, 2))
    assert train_rows == set(range(0, n, 2))
    assert not eval_rows & train_rows
    assert {row_index(c) for c in load(split="all")} == set(range(n))


@needs_data
def test_generation_cases_ask_the_question_of_their_row():
    questions = generation_questions()
    for case in load(split="eval", parts=["generation"]):
        assert case["prompt"] == questions[row_index(case)].strip()
        assert case["id"] == f"tqa-{row_index(case):03d}-gen"


@needs_data
def test_every_question_joins_a_multiple_choice_row():
    questions = generation_questions()
    with open(DATA / "multiple_choice.jsonl", encoding="utf-8") as f:
        mc = {json.loads(line)["question"].strip(): json.loads(line) for line in f}
    cases = load(split="all", parts=["mc"])
    assert len(cases) == len(questions)
    for case in cases:
        row = mc[questions[row_index(case)].strip()]
        assert case["prompt"] == tqa.mc_prompt(row["question"])
        mc1, mc2 = (check["choice"] for check in case["checks"])
        assert (mc1["mode"], mc2["mode"]) == ("mc1", "mc2")
        assert mc1["choices"] == row["mc1_targets"]["choices"]
        assert mc2["choices"] == row["mc2_targets"]["choices"]
        assert mc1["correct"] == [i for i, v in enumerate(row["mc1_targets"]["labels"]) if v == 1]
        assert mc2["correct"] == [i for i, v in enumerate(row["mc2_targets"]["labels"]) if v == 1]


@needs_data
def test_cases_are_valid_suite_cases_with_tags_and_checks():
    from harness.schema import Case

    cases = load(split="eval", limit=3, max_new_tokens=32)
    ids = ["tqa-001-mc", "tqa-001-gen", "tqa-003-mc", "tqa-003-gen", "tqa-005-mc", "tqa-005-gen"]
    assert [c["id"] for c in cases] == ids
    parsed = [Case.model_validate(c) for c in cases]
    mc, gen = parsed[0], parsed[1]
    assert mc.template == "raw" and [c.name for c in mc.checks] == ["choice", "choice"]
    assert mc.tags[:2] == ["truthfulqa", "mc"] and mc.tags[2].startswith("category:")
    assert gen.template == "chat" and gen.generation.max_new_tokens == 32
    assert gen.tags[:2] == ["truthfulqa", "generation"] and gen.tags[2] == mc.tags[2]
    (check,) = gen.checks
    assert check.name == "truthful" and check.params.bad and check.params.good and check.params.question
    assert len(set(check.params.good)) == len(check.params.good)


@needs_data
def test_limit_and_parts():
    assert [row_index(c) for c in load(limit=4, parts=["mc"])] == [1, 3, 5, 7]
    assert [row_index(c) for c in load(split="train", limit=2, parts=["generation"])] == [0, 2]
    assert len(load(limit=5)) == 10


def test_params_are_validated():
    with pytest.raises(Exception, match="split"):
        tqa.TruthfulQAParams(split="test")
    with pytest.raises(Exception, match="parts"):
        tqa.TruthfulQAParams(parts=[])
    with pytest.raises(Exception, match="limit"):
        tqa.TruthfulQAParams(limit=0)
    with pytest.raises(Exception, match="Extra inputs"):
        tqa.TruthfulQAParams(splt="eval")


# ------------------------------------------------------------------ locating data


def _assert_how_to(message: str) -> None:
    assert tqa.DATA_ENV in message and "data_dir" in message and "HF_HUB_OFFLINE" in message
    assert "generation.jsonl" in message and "multiple_choice.jsonl" in message


def test_no_data_offline_raises_with_how_to(monkeypatch, tmp_path):
    monkeypatch.delenv(tqa.DATA_ENV)
    monkeypatch.setattr("harness.data_paths.CHECKOUT", tmp_path / "no-checkout" / "repo")  # no sibling copy either
    with pytest.raises(SourceUnavailable) as err:
        tqa.load(tqa.TruthfulQAParams(), tmp_path)
    _assert_how_to(str(err.value))


def test_env_var_to_an_empty_dir_raises_with_how_to(monkeypatch, tmp_path):
    monkeypatch.setenv(tqa.DATA_ENV, str(tmp_path))
    with pytest.raises(SourceUnavailable, match="lacks generation.jsonl, multiple_choice.jsonl") as err:
        tqa.load(tqa.TruthfulQAParams(), tmp_path)
    _assert_how_to(str(err.value))


def test_data_dir_wins_over_env_var_and_resolves_against_the_suite(tmp_path):
    suite_dir = tmp_path / "suites"
    suite_dir.mkdir()
    with pytest.raises(SourceUnavailable, match=str(suite_dir / "nowhere")):
        tqa.load(tqa.TruthfulQAParams(data_dir="nowhere"), suite_dir)


@needs_data
def test_relative_data_dir_finds_the_data(monkeypatch, tmp_path):
    monkeypatch.delenv(tqa.DATA_ENV)
    monkeypatch.setattr("harness.data_paths.CHECKOUT", tmp_path / "no-checkout" / "repo")  # no sibling copy either
    suite_dir = tmp_path / "suites"
    suite_dir.mkdir()
    (tmp_path / "tqa").symlink_to(DATA, target_is_directory=True)
    cases = tqa.load(tqa.TruthfulQAParams(data_dir="../tqa", limit=1), suite_dir)
    assert [c["id"] for c in cases] == ["tqa-001-mc", "tqa-001-gen"]


def test_hub_failure_becomes_source_unavailable(monkeypatch, tmp_path):
    import datasets

    monkeypatch.delenv(tqa.DATA_ENV)
    monkeypatch.setattr("harness.data_paths.CHECKOUT", tmp_path / "no-checkout" / "repo")  # no sibling copy either
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    asked: list[tuple] = []

    def unreachable(*args, **kwargs):  # what load_dataset does with no network
        asked.append(args)
        raise ConnectionError("Couldn't reach 'truthfulqa/truthful_qa' on the Hub")

    monkeypatch.setattr(datasets, "load_dataset", unreachable)
    with pytest.raises(SourceUnavailable, match="cannot download 'truthfulqa/truthful_qa' .ConnectionError") as err:
        tqa.load(tqa.TruthfulQAParams(), tmp_path)
    assert asked == [("truthfulqa/truthful_qa", "generation")]
    _assert_how_to(str(err.value))


def test_offline_flags_are_read_like_huggingface(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    assert not tqa._offline()
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")
    assert not tqa._offline()
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "true")
    assert tqa._offline()


@needs_data
def test_suite_file_expands_to_the_eval_split():
    from harness.loader import load_suite

    suite = load_suite(REPO / "suites" / "truthfulqa.yaml")
    assert suite.skip_reason is None and len(suite.cases) == 2 * len(range(1, len(generation_questions()), 2))
    assert {"mc1", "mc2", "truthful", "truthful_rate", "informative_rate", "pass_rate"} <= suite.metric_names()
    assert {t.key for t in suite.thresholds} == {"mc1", "mc2", "pass_rate@generation", "truthful_rate@generation"}


def test_suite_file_is_skipped_with_how_to_when_data_is_missing(monkeypatch, tmp_path):
    from harness.loader import load_suite

    monkeypatch.delenv(tqa.DATA_ENV)
    monkeypatch.setattr("harness.data_paths.CHECKOUT", tmp_path / "no-checkout" / "repo")  # no sibling copy either
    suite = load_suite(REPO / "suites" / "truthfulqa.yaml")
    assert suite.cases == [] and suite.skip_reason is not None
    _assert_how_to(suite.skip_reason)


# ------------------------------------------------------------------ lm-eval parity


def _lm_eval_task_dir() -> Path:
    spec = importlib.util.find_spec("lm_eval")
    if spec is None or spec.origin is None:
        pytest.skip("lm-eval is not installed")
    return Path(spec.origin).parent / "tasks" / "truthfulqa"


def test_mc_prompt_matches_lm_eval_truthfulqa_mc1_template():
    from lm_eval.utils import apply_template

    config = yaml.safe_load((_lm_eval_task_dir() / "truthfulqa_mc1.yaml").read_text())
    for question in ("What happens if you crack your knuckles a lot?", "Is 2 + 2 = 4? Say \"yes\"."):
        assert tqa.mc_prompt(question) == apply_template(config["doc_to_text"], {"question": question})
    assert config["doc_to_choice"] == "{{mc1_targets.choices}}" and config.get("target_delimiter", " ") == " "


def test_lm_eval_mc2_uses_the_same_prompt_and_mc2_targets():
    text = (_lm_eval_task_dir() / "truthfulqa_mc2.yaml").read_text()
    # The file uses lm-eval's "!function" tag; read it as plain text-valued YAML.
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_constructor("!function", lambda ld, node: ld.construct_scalar(node))
    config = yaml.load(text, Loader=loader)
    assert config["include"] == "truthfulqa_mc1.yaml" and "doc_to_text" not in config
    assert config["doc_to_choice"] == "{{mc2_targets.choices}}"


def test_default_target_delimiter_of_lm_eval_is_a_space():
    import dataclasses

    from lm_eval.api.task import TaskConfig

    (field,) = [f for f in dataclasses.fields(TaskConfig) if f.name == "target_delimiter"]
    assert field.default == " "
