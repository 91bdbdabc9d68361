"""The gate end to end on the embedded model: accept, reject, and the refusals before scoring."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gate.gate import run_gate

from .conftest import ACCEPT_SUITE, REJECT_SUITE, UNRELATED_TRAINING, write_jsonl, write_suite

pytestmark = pytest.mark.slow


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "training" / "data" / "clean.jsonl", UNRELATED_TRAINING)
    return tmp_path


def gate(adapter, suite_dir, **kw):
    return run_gate(str(adapter), suites=[str(suite_dir)], training=["training/data"], registry_dir="adapters",
                    name="demo", batch_size=4, progress=False, **kw)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_accepted_adapter_is_published_with_manifest(workdir, applied_lora):
    write_suite(workdir / "ok", ACCEPT_SUITE)
    result = gate(applied_lora, workdir / "ok")
    assert result.accepted and result.failures == []
    assert result.published.resolve() == workdir / "adapters" / "demo" / "v1"
    doc = json.loads((result.published / "manifest.json").read_text())
    assert doc["verdict"] == "accepted" and doc["version"] == "v1"
    assert doc["base_model"]["weights_sha256"] == result.candidate.identity.model_sha256
    assert doc["adapter"]["weights_sha256"] == result.candidate.identity.adapter_sha256
    assert doc["suites"][0]["path"].endswith("suite.yaml") and len(doc["suites"][0]["sha256"]) == 64
    assert doc["metrics"]["gate-accept"]["before"]["pass_rate"] == 1.0
    assert doc["metrics"]["gate-accept"]["after"]["pass_rate"] == 1.0
    assert doc["versions"]["transformers"] and doc["versions"]["peft"]
    for header in ("suite", "metric", "base", "adapter", "delta", "threshold", "pass"):
        assert header in result.table.splitlines()[0]
    assert (result.published / "adapter_model.safetensors").read_bytes() == (applied_lora / "adapter_model.safetensors").read_bytes()


def test_rejected_adapter_writes_nothing_and_names_the_failing_threshold(workdir, applied_lora):
    write_suite(workdir / "bad", REJECT_SUITE)
    result = gate(applied_lora, workdir / "bad")
    assert not result.accepted and result.published is None
    assert tree(workdir / "adapters") == []
    assert any("pass_rate >= 0.5 does not hold (0.000)" in line for line in result.failures), result.failures
    assert "FAIL" in result.table


def test_adapter_that_changes_nothing_is_refused_before_scoring(workdir, noop_lora):
    write_suite(workdir / "ok", ACCEPT_SUITE)
    with pytest.raises(HarnessError, match="does not change the model"):
        gate(noop_lora, workdir / "ok")
    assert tree(workdir / "adapters") == []


def test_leaking_training_data_is_refused_before_any_model_is_loaded(workdir, applied_lora, monkeypatch):
    write_suite(workdir / "ok", ACCEPT_SUITE)
    write_jsonl(workdir / "training" / "data" / "leak.jsonl",
                [{"prompt": "What is the capital of France?", "response": "Paris."}])
    import harness.backends

    def no_model(*a, **k):
        raise AssertionError("a model was loaded although the hold-out check failed")

    monkeypatch.setattr(harness.backends, "load_backend", no_model)
    with pytest.raises(HarnessError, match=r"leak\.jsonl:1 ~ ok/suite\.yaml:5 \(capital\)"):
        gate(applied_lora, workdir / "ok")


def test_adapter_trained_on_another_base_is_refused(workdir, applied_lora):
    write_suite(workdir / "ok", ACCEPT_SUITE)
    other = workdir / "other-base-adapter"
    shutil.copytree(applied_lora, other)
    (other / "training.json").write_text(json.dumps({"name": "demo", "base_model": {"id": "x", "weights_sha256": "f" * 64}}))
    with pytest.raises(HarnessError, match="trained on another base model"):
        gate(other, workdir / "ok")
    assert tree(workdir / "adapters") == []


def test_a_suite_that_cannot_run_is_refused_before_any_model_is_loaded(workdir, applied_lora, monkeypatch):
    write_suite(workdir / "ok", ACCEPT_SUITE)
    (workdir / "ok" / "tqa.yaml").write_text(
        "name: tqa\ndescription: needs data that is not here\n"
        "source:\n  truthfulqa: {data_dir: nowhere}\n"
        "thresholds:\n  - {metric: mc1, min: 0.2}\n"
    )
    import harness.backends

    def no_model(*a, **k):
        raise AssertionError("a model was loaded although a suite cannot run")

    monkeypatch.setattr(harness.backends, "load_backend", no_model)
    with pytest.raises(HarnessError, match=r"(?s)cannot run here \(not evaluated\):.*tqa\.yaml: TruthfulQA data not found.*--allow-missing tqa"):
        gate(applied_lora, workdir / "ok")
    assert tree(workdir / "adapters") == []
