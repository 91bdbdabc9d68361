"""`harness export-lm-eval` then the real `lm_eval` CLI (hf backend, base + LoRA adapter) on the
embedded model: the same cases get the same outputs, per-case scores and aggregates as the harness."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from harness.cli import main
from harness.loader import load_suite
from harness.metrics import case_metrics
from harness.runner import run_suites
from tests.lmeval.helpers import REPO

LIMIT = 2


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory, embedded_dir):
    """A small random LoRA on the embedded model: it changes outputs without wrecking them."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(7)
    base = AutoModelForCausalLM.from_pretrained(embedded_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.mul_(0.05)
    path = tmp_path_factory.mktemp("lora")
    model.save_pretrained(path)
    del model, base
    return path


@pytest.mark.slow
def test_lm_eval_cli_matches_the_harness_case_by_case(tmp_path, embedded_dir, adapter_dir):
    suite_file = REPO / "suites" / "refusals.yaml"
    tasks = tmp_path / "tasks"
    assert main(["export-lm-eval", "--out", str(tasks), str(suite_file)]) == 0

    out = tmp_path / "lm_eval_out"
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={embedded_dir},peft={adapter_dir},dtype=float32",
        "--device", "cpu", "--batch_size", "1", "--include_path", str(tasks), "--tasks", "harness_refusals",
        "--limit", str(LIMIT), "--log_samples", "--output_path", str(out),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (samples_file,) = glob.glob(str(out / "**" / "samples_harness_refusals_*.jsonl"), recursive=True)
    samples = [json.loads(line) for line in open(samples_file, encoding="utf-8")]
    (results_file,) = glob.glob(str(out / "**" / "results_*.json"), recursive=True)
    reported = json.loads(open(results_file, encoding="utf-8").read())["results"]["harness_refusals"]

    from harness.backends import load_backend

    backend = load_backend(None, str(adapter_dir), batch_size=1, progress=False)
    suite = load_suite(suite_file)
    suite.cases = suite.cases[:LIMIT]
    ours = run_suites([suite], backend).suites[suite.path]

    assert [s["doc"]["id"] for s in samples] == [c.id for c in suite.cases]
    for sample in samples:
        case = ours.cases[sample["doc"]["id"]]
        assert sample["filtered_resps"][0].strip() == case.output
        got, expected = {k: sample[k] for k in sample["metrics"]}, case_metrics(case)
        assert {k: v for k, v in got.items() if "@" not in k} == expected
        assert all(v == expected[k.split("@")[0]] for k, v in got.items() if "@" in k)
    for key, value in reported.items():
        if "," in key and not key.split(",")[0].endswith("_stderr"):
            assert value == pytest.approx(ours.metrics[key.split(",")[0]]), key
