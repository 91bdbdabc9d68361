"""load_backend keeps the last models it loaded: one load per model per process, rewritten adapters reloaded."""

from __future__ import annotations

import shutil

from harness import backends


def test_the_same_model_is_loaded_once_and_a_rewritten_adapter_again(tiny_model_dir, tmp_path, monkeypatch):
    from harness.backends import hf
    from tests.gate.conftest import save_lora

    calls = []
    real = hf.load_hf_backend

    def counting(*a, **k):
        calls.append(a[:2])
        return real(*a, **k)

    monkeypatch.setattr(hf, "load_hf_backend", counting)
    backends.forget_backends()
    adapter = save_lora(tiny_model_dir, tmp_path / "lora", applied=True)
    base = backends.load_backend(str(tiny_model_dir), progress=False)
    assert backends.load_backend(str(tiny_model_dir), progress=True) is base and base.progress is True
    tuned = backends.load_backend(str(tiny_model_dir), str(adapter), progress=False)
    assert backends.load_backend(str(tiny_model_dir), str(adapter)) is tuned
    assert len(calls) == 2

    save_lora(tiny_model_dir, tmp_path / "lora2", applied=True, seed=9)
    shutil.copy(tmp_path / "lora2" / "adapter_model.safetensors", adapter / "adapter_model.safetensors")
    assert backends.load_backend(str(tiny_model_dir), str(adapter)) is not tuned  # new weights, loaded again
    assert len(calls) == 3
    backends.load_backend(str(tiny_model_dir), batch_size=3)  # a third model: the oldest is dropped
    assert len(backends._loaded) == backends.KEEP
    backends.forget_backends()
    assert not backends._loaded


def test_a_gate_loads_each_model_once(tiny_model_dir, tmp_path, monkeypatch):
    """Applied-check and evaluation share the loaded base and candidate (it loaded each twice before)."""
    from harness.backends import hf
    from harness.cli import main
    from tests.gate.conftest import save_lora
    from tests.test_faults import SUITE

    calls = []
    real = hf.load_hf_backend
    monkeypatch.setattr(hf, "load_hf_backend", lambda *a, **k: calls.append(a[:2]) or real(*a, **k))
    backends.forget_backends()
    adapter = save_lora(tiny_model_dir, tmp_path / "lora", applied=True)
    (tmp_path / "suite.yaml").write_text(SUITE)
    (tmp_path / "train.jsonl").write_text('{"prompt": "Write a haiku about rain.", "response": "Rain."}\n')
    code = main(["gate", str(adapter), "--model", str(tiny_model_dir), "--suites", str(tmp_path / "suite.yaml"),
                 "--name", "t", "--training", str(tmp_path / "train.jsonl"), "--registry", str(tmp_path / "reg"), "-q",
                 "--no-cache"])
    assert code in (0, 1)  # the verdict does not matter here
    assert sorted(calls, key=lambda c: c[1] or "") == [(str(tiny_model_dir), None), (str(tiny_model_dir), str(adapter))]
    backends.forget_backends()


def test_the_baseline_is_let_go_before_the_candidate_runs(tiny_model_dir, tmp_path, monkeypatch):
    """evaluate() frees the baseline's weights once its run is done: one model in memory at a time."""
    import gc
    import weakref

    from harness import evaluate as evaluate_module
    from harness.evaluate import ModelSpec, evaluate
    from harness.loader import load_suite
    from tests.gate.conftest import save_lora
    from tests.test_faults import SUITE

    monkeypatch.setenv("ADAPTER_HARNESS_STORE", "off")
    backends.forget_backends()
    adapter = save_lora(tiny_model_dir, tmp_path / "lora", applied=True)
    (tmp_path / "suite.yaml").write_text(SUITE)
    suite = load_suite(tmp_path / "suite.yaml")
    base = ModelSpec(str(tiny_model_dir))
    seen = []  # a weak reference to each model as its run starts
    real_run = evaluate_module.run_suites

    def watching(suites, backend, **kw):
        seen.append((weakref.ref(backend), len(backends._loaded)))
        return real_run(suites, backend, **kw)

    monkeypatch.setattr(evaluate_module, "run_suites", watching)
    evaluate([suite], ModelSpec(str(tiny_model_dir), str(adapter)), base, progress=False)
    gc.collect()
    (base_ref, _), (_, kept_at_candidate) = seen
    assert kept_at_candidate == 1  # only the candidate is kept while it runs
    assert base_ref() is None  # and nothing else holds the baseline's model
    evaluate([suite], base, base, progress=False)  # the same model as both: loaded once, kept
    assert len(backends._loaded) == 2
    backends.forget_backends()
