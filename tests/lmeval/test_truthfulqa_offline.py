"""The shipped offline TruthfulQA tasks mirror lm-eval's truthfulqa_mc1/mc2/gen exactly, on the
harness's evaluation split (odd rows of TruthfulQA.csv), in the order of suites/truthfulqa.yaml."""

from __future__ import annotations

from pathlib import Path

import lm_eval
import pytest

from harness.lmeval import TASKS_DIR
from harness.lmeval.tasks.truthfulqa_offline import utils as offline
from harness.loader import load_suite
from tests.lmeval.helpers import REPO, needs_truthfulqa, truthfulqa_dir

UPSTREAM = Path(lm_eval.__file__).parent / "tasks" / "truthfulqa"
OURS = TASKS_DIR / "truthfulqa_offline"
PAIRS = [("mc1", "multiple_choice_docs"), ("mc2", "multiple_choice_docs"), ("gen", "generation_docs")]
# Keys that differ by design: the name, where the data comes from, and (compared by output below) the prompt.
DIFFERENT = {"task", "tag", "dataset_path", "dataset_name", "custom_dataset", "doc_to_text"}


def load_config(path: Path) -> dict:
    from lm_eval.tasks._yaml_loader import load_yaml

    return load_yaml(path)


def named(value):
    """Functions compare by module and name (lm-eval may load one module twice)."""
    return f"{value.__module__}.{value.__qualname__}" if callable(value) else value


@pytest.mark.parametrize("kind", [kind for kind, _ in PAIRS])
def test_config_keys_equal_lm_eval(kind):
    ours = load_config(OURS / f"harness_truthfulqa_{kind}.yaml")
    theirs = load_config(UPSTREAM / f"truthfulqa_{kind}.yaml")
    assert ours["task"] == f"harness_truthfulqa_{kind}"
    assert set(ours) - DIFFERENT == set(theirs) - DIFFERENT
    for key in set(theirs) - DIFFERENT:
        assert named(ours[key]) == named(theirs[key]), key


@needs_truthfulqa
@pytest.mark.parametrize("kind,docs_fn", PAIRS)
def test_prompts_choices_and_scores_equal_lm_eval(kind, docs_fn):
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks import TaskManager

    ours = TaskManager(include_path=str(TASKS_DIR), include_defaults=False).load([f"harness_truthfulqa_{kind}"])
    ours = ours["tasks"][f"harness_truthfulqa_{kind}"]
    # lm-eval's own config, fed the same local rows instead of the hub.
    upstream = load_config(UPSTREAM / f"truthfulqa_{kind}.yaml")
    upstream.pop("dataset_path"), upstream.pop("dataset_name")
    theirs = ConfigurableTask(config={**upstream, "custom_dataset": getattr(offline, docs_fn)})
    our_docs, their_docs = list(ours.eval_docs), list(theirs.eval_docs)
    assert len(our_docs) == len(their_docs) == 408
    for mine, other in zip(our_docs, their_docs):
        assert ours.fewshot_context(mine, 0) == theirs.fewshot_context(other, 0)
        assert ours.doc_to_target(mine) == theirs.doc_to_target(other)
        if kind != "gen":
            assert ours.doc_to_choice(mine) == theirs.doc_to_choice(other)
    if kind == "mc2":
        doc = our_docs[0]
        results = [(-1.0 - i, False) for i in range(len(doc["mc2_targets"]["choices"]))]
        assert ours.process_results(doc, results) == theirs.process_results(doc, results)


@needs_truthfulqa
def test_eval_split_is_the_harness_suite():
    """Same questions, same order, same prompt and choices as suites/truthfulqa.yaml's MC cases."""
    docs = offline.multiple_choice_docs()["validation"]
    assert [d["row"] for d in docs] == list(range(1, 817, 2))
    suite = load_suite(REPO / "suites" / "truthfulqa.yaml")
    mc_cases = [c for c in suite.cases if "mc" in c.tags]
    assert len(mc_cases) == len(docs)
    for case, doc in zip(mc_cases, docs):
        assert case.id == f"tqa-{doc['row']:03d}-mc"
        assert suite.render(case) == offline.mc_text(doc)
        mc1, mc2 = (check.params for check in suite.checks_for(case))
        assert mc1.choices == doc["mc1_targets"]["choices"] and mc2.choices == doc["mc2_targets"]["choices"]
        assert mc2.correct == [i for i, label in enumerate(doc["mc2_targets"]["labels"]) if label == 1]


@needs_truthfulqa
def test_split_and_directory_options():
    train = offline.generation_docs(truthfulqa_dir=str(truthfulqa_dir()), truthfulqa_split="train")["validation"]
    assert train[0]["row"] == 0 and len(train) == 409
    with pytest.raises(ValueError, match="truthfulqa_split"):
        offline.multiple_choice_docs(truthfulqa_split="test")
