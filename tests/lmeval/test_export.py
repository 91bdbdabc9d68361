"""Export round trip on a tiny random model: lm-eval runs the exported tasks and scores every
case exactly as the harness does (same outputs, same per-case metrics, same aggregates)."""

from __future__ import annotations

import json
import math
import textwrap

import pytest

from harness.cli import main
from harness.errors import SuiteError
from harness.lmeval.export import export_suites, split_parts
from harness.loader import load_suite
from harness.metrics import case_metrics
from harness.runner import run_suites
from tests.lmeval.helpers import evaluate_tasks

MIXED = """\
name: Mixed Bag
generation: {max_new_tokens: 6}
system_prompt: Answer briefly.
cases:
  - id: chat-a
    prompt: Name a colour.
    tags: [gen]
    checks:
      - length: {max_words: 3}
      - not_contains: {any: [zebra]}
  - id: chat-b
    messages:
      - {role: user, content: Hello there}
      - {role: assistant, content: Hi!}
      - {role: user, content: Say more.}
    tags: [gen]
    checks: [{regex: {pattern: "\\\\w"}}]
  - id: raw-c
    template: raw
    prompt: "Once upon a time"
    generation: {max_new_tokens: 4}
    checks: [{length: {min_words: 1}}]
  - id: mc-d
    template: raw
    prompt: "Q: Which is a fruit?\\nA:"
    tags: [mc]
    checks:
      - choice: {choices: [An apple., A brick.], correct: [0], mode: mc1}
      - choice: {choices: [An apple., A pear., A brick.], correct: [0, 1], mode: mc2}
  - id: pref-e
    prompt: Is the sky blue?
    tags: [mc]
    checks:
      - preference: {chosen: "Yes, usually.", rejected: "No, it is green."}
thresholds:
  - {metric: pass_rate, min: 0}
  - {metric: length, tag: gen, min: 0}
  - {metric: mc2, tag: mc, min: 0}
"""


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    path = tmp_path_factory.mktemp("suites") / "mixed.yaml"
    path.write_text(MIXED, encoding="utf-8")
    return load_suite(path)


def test_parts_split_by_output_type_and_generation(mixed):
    parts = split_parts(mixed)
    assert [(p.name, p.kind, [c.id for c in p.cases]) for p in parts] == [
        ("harness_mixed_bag_generate", "generate", ["chat-a", "chat-b"]),
        ("harness_mixed_bag_generate_2", "generate", ["raw-c"]),
        ("harness_mixed_bag_loglikelihood", "loglikelihood", ["mc-d", "pref-e"]),
    ]


def test_exported_files(mixed, render, tmp_path):
    (exported,) = export_suites([mixed], tmp_path, render, "tiny")
    names = sorted(p.name for p in exported.directory.iterdir())
    assert names == sorted([
        "utils.py", "harness_mixed_bag.yaml",
        *[f"harness_mixed_bag_{k}.{ext}" for k in ("generate", "generate_2", "loglikelihood") for ext in ("yaml", "jsonl")],
    ])
    generate = (exported.directory / "harness_mixed_bag_generate.yaml").read_text()
    assert "output_type: generate_until" in generate and "max_gen_toks: 6, do_sample: false" in generate
    assert "max_gen_toks: 4" in (exported.directory / "harness_mixed_bag_generate_2.yaml").read_text()
    docs = [json.loads(line) for line in (exported.directory / "harness_mixed_bag_loglikelihood.jsonl").open()]
    # mc1's two choices, then mc2's three, then the preference pair; raw text gets the " " delimiter
    assert docs[0]["continuations"] == [" An apple.", " A brick.", " An apple.", " A pear.", " A brick."]
    assert docs[1]["continuations"] == ["Yes, usually.", "No, it is green."]
    assert docs[0]["tagged"] == ["mc2@mc"]
    chat = [json.loads(line) for line in (exported.directory / "harness_mixed_bag_generate.jsonl").open()]
    assert chat[0]["text"] == render(mixed.render(mixed.cases[0]))
    assert chat[0]["text"].startswith("<|im_start|>system\nAnswer briefly.")
    assert chat[1]["text"].endswith("<|im_start|>user\nSay more.<|im_end|>\n<|im_start|>assistant\n")


def test_lm_eval_scores_every_case_like_the_harness(mixed, render, tiny_backend, tmp_path):
    (exported,) = export_suites([mixed], tmp_path, render, "tiny")
    ours = run_suites([mixed], tiny_backend).suites[mixed.path]
    theirs = evaluate_tasks(tiny_backend.lm_eval_model(), [exported.task], tmp_path)

    by_id = {s["doc"]["id"]: s for samples in theirs["samples"].values() for s in samples}
    assert sorted(by_id) == sorted(ours.cases)
    for case_id, case in ours.cases.items():
        sample = by_id[case_id]
        if case.output is not None:
            assert sample["filtered_resps"][0].strip() == case.output
        expected = case_metrics(case)
        got = {k: sample[k] for k in sample["metrics"]}
        assert {k: v for k, v in got.items() if "@" not in k} == pytest.approx(expected, abs=1e-4), case_id
    # A metric whose cases all lie in one subtask has the same aggregate there as in the suite.
    results = theirs["results"]
    compared = set()
    for part in exported.parts:
        inside = {c.id for c in part.cases}
        for key, value in results[part.name].items():
            metric = key.split(",")[0]
            if "," not in key or metric.endswith("_stderr"):
                continue
            producers = {i for i, c in ours.cases.items() if metric.split("@")[0] in case_metrics(c)}
            if "@" in metric:
                producers = {i for i in producers if metric.split("@")[1] in ours.cases[i].tags}
            if producers <= inside:
                assert value == pytest.approx(ours.metrics[metric], abs=1e-4), (part.name, metric)
                compared.add(metric)
    assert {"mc1", "mc2", "mc2@mc", "preference_margin", "regex", "not_contains", "length@gen"} <= compared
    # the group's size-weighted pass rate is the suite's pass rate over every case
    assert results["harness_mixed_bag"]["pass_rate,none"] == pytest.approx(ours.metrics["pass_rate"])
    assert not math.isnan(ours.metrics["mc2@mc"])


def test_case_mixing_output_types_is_refused(tmp_path, render):
    text = MIXED.replace("      - preference:", "      - length: {max_words: 3}\n      - preference:")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    suite = load_suite(path)
    with pytest.raises(SuiteError) as info:
        export_suites([suite], tmp_path / "out", render, "tiny")
    assert info.value.line == suite.cases[-1].line and "one output type" in str(info.value)


def test_export_command(tmp_path, tiny_model_dir, capsys):
    suite = tmp_path / "demo.yaml"
    suite.write_text(textwrap.dedent("""\
        name: demo
        cases:
          - {id: a, prompt: Hi, checks: [{refusal: {expect: answer}}]}
        thresholds:
          - {metric: refusal_rate, max: 0.5}
        """), encoding="utf-8")
    assert main(["export-lm-eval", "--out", str(tmp_path / "out"), "--model", str(tiny_model_dir), str(suite)]) == 0
    out = capsys.readouterr().out
    assert "task harness_demo (generate, 1 cases)" in out and "harness_demo: harness_demo" not in out  # said once
    assert "--include_path" in out and "--tasks harness_demo" in out and "[,peft" not in out
    adapter = tmp_path / "my-adapter"
    assert main(["export-lm-eval", "--out", str(tmp_path / "out2"), "--model", str(tiny_model_dir),
                 "--adapter", str(adapter), str(suite)]) == 0
    assert f",peft={adapter.resolve()} " in capsys.readouterr().out  # filled in, nothing to edit by hand
    config = (tmp_path / "out" / "harness_demo" / "harness_demo.yaml").read_text()
    assert "custom_dataset: !function utils.load_docs" in config and '{metric: "refusal_rate"' in config


def test_a_metric_bounded_by_max_is_exported_lower_is_better(render, tmp_path):
    import yaml

    path = tmp_path / "bounded.yaml"
    path.write_text(textwrap.dedent("""\
        name: bounded
        cases:
          - {id: a, prompt: Hi, tags: [benign], checks: [{refusal: {expect: answer}}]}
        thresholds:
          - {metric: refusal_rate, tag: benign, max: 0.1}
          - {metric: pass_rate, min: 0.5}
        """), encoding="utf-8")
    (exported,) = export_suites([load_suite(path)], tmp_path / "out", render, "tiny")
    text = (exported.directory / f"{exported.task}.yaml").read_text()
    config = yaml.safe_load("\n".join(line for line in text.splitlines() if "!function" not in line))
    direction = {m["metric"]: m["higher_is_better"] for m in config["metric_list"]}
    assert direction["refusal_rate@benign"] is False and direction["pass_rate"] is True
