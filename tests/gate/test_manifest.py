"""Registry integrity: tamper detection, wrong-base refusal, atomic versioned publishing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.gate import manifest as reg


def fake_adapter(path: Path, seed: int = 0) -> Path:
    """A directory shaped like a PEFT adapter (real safetensors file); never loaded into a model here."""
    import torch
    from safetensors.torch import save_file

    path.mkdir(parents=True)
    torch.manual_seed(seed)
    save_file({"lora_A": torch.randn(2, 4), "lora_B": torch.randn(4, 2)}, str(path / reg.WEIGHTS))
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2}))
    return path


def manifest_for(adapter: Path, base_sha: str = "b" * 64) -> dict:
    return {"name": "demo", "version": None, "verdict": "accepted",
            "base_model": {"id": "embedded", "weights_sha256": base_sha},
            "adapter": {"weights_sha256": reg.sha256_file(adapter / reg.WEIGHTS)}}


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_publish_makes_numbered_versions_with_manifest(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    first = reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    second = reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    assert (first.name, second.name) == ("v1", "v2")
    assert reg.latest(tmp_path / "adapters", "demo") == second
    data = json.loads((second / reg.MANIFEST).read_text())
    assert data["version"] == "v2"
    assert (second / reg.WEIGHTS).read_bytes() == (adapter / reg.WEIGHTS).read_bytes()
    expected = ["demo"] + [f"demo/{v}" + f for v in ("v1", "v2")
                           for f in ("", "/adapter_config.json", "/" + reg.MANIFEST, "/" + reg.WEIGHTS)]
    assert tree(tmp_path / "adapters") == sorted(expected)
    assert not [p for p in (tmp_path / "adapters").rglob(".*")], "no temporary folders left behind"
    assert reg.verify_adapter(second, "b" * 64)["name"] == "demo"


def test_interrupted_publish_leaves_registry_unchanged(tmp_path, monkeypatch):
    adapter = fake_adapter(tmp_path / "cand")
    reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    before = tree(tmp_path / "adapters")
    calls = []

    def copy_then_die(src, dst, *a, **k):
        calls.append(src)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user hits Ctrl-C mid-copy
        import shutil as real

        return real.copyfile(src, dst)

    monkeypatch.setattr(reg.shutil, "copy2", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    assert len(calls) == 2
    assert tree(tmp_path / "adapters") == before


def test_weights_changed_during_gate_are_not_published(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    doc = manifest_for(adapter)
    doc["adapter"]["weights_sha256"] = "0" * 64
    with pytest.raises(HarnessError, match="changed while the gate"):
        reg.publish(adapter, tmp_path / "adapters", "demo", doc)
    assert tree(tmp_path / "adapters") == []


def test_tampered_weights_are_refused(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    published = reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    weights = published / reg.WEIGHTS
    raw = bytearray(weights.read_bytes())
    raw[-1] ^= 0x01  # one flipped bit in the tensor data
    weights.write_bytes(bytes(raw))
    with pytest.raises(HarnessError, match="does not match its manifest"):
        reg.verify_adapter(published)


def test_adapter_for_another_base_model_is_refused(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    published = reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter, base_sha="a" * 64))
    assert reg.verify_adapter(published, "a" * 64) is not None
    with pytest.raises(HarnessError, match="trained on another base model"):
        reg.verify_adapter(published, "c" * 64)


def test_training_json_base_is_checked_when_there_is_no_manifest(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    (adapter / "training.json").write_text(json.dumps({"base_model": {"id": "x", "weights_sha256": "a" * 64}}))
    assert reg.verify_adapter(adapter, "a" * 64) is None
    with pytest.raises(HarnessError, match="trained on another base model"):
        reg.verify_adapter(adapter, "d" * 64)


def test_broken_manifest_and_bad_names_are_clear_errors(tmp_path):
    adapter = fake_adapter(tmp_path / "cand")
    (adapter / reg.MANIFEST).write_text("{not json")
    with pytest.raises(HarnessError, match="unreadable manifest"):
        reg.verify_adapter(adapter)
    with pytest.raises(HarnessError, match="adapter name"):
        reg.check_name("../escape")


def test_previous_baseline_is_the_last_accepted_version(tmp_path):
    from harness.gate.gate import baseline_for

    with pytest.raises(HarnessError, match="no accepted adapter named 'demo'"):
        baseline_for("previous", "demo", tmp_path / "adapters", None)
    adapter = fake_adapter(tmp_path / "cand")
    for _ in range(2):
        reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
    for n in (3, 10):  # versions sort by number, not as text: v10 is after v9
        shutil.copytree(tmp_path / "adapters" / "demo" / "v1", tmp_path / "adapters" / "demo" / f"v{n}")
    spec = baseline_for("previous", "demo", tmp_path / "adapters", "embedded")
    assert (spec.model, Path(spec.adapter).name) == ("embedded", "v10")
    assert baseline_for("base", "demo", tmp_path / "adapters", None).adapter is None
    with pytest.raises(HarnessError, match="'base' or 'previous'"):
        baseline_for("latest", "demo", tmp_path / "adapters", None)


def test_registry_name_defaults_to_training_run_name_made_safe(tmp_path):
    from harness.gate.gate import adapter_name

    adapter = fake_adapter(tmp_path / "runs" / "sft")
    assert adapter_name(adapter, None) == "sft"
    (adapter / "training.json").write_text(json.dumps({"name": "demo sft/refusals"}))
    assert adapter_name(adapter, None) == "demo-sft-refusals"
    assert adapter_name(adapter, "mine") == "mine"


def test_a_publish_killed_midway_leaves_an_orphan_that_the_next_publish_removes(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import textwrap
    import time

    adapter = fake_adapter(tmp_path / "cand")
    registry = tmp_path / "adapters"
    reg.publish(adapter, registry, "demo", manifest_for(adapter))
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import json, shutil, time
        from harness.gate import manifest as reg
        shutil.copy2 = lambda *a, **k: time.sleep(600)  # hang mid-copy, as a slow disk or a kill would leave it
        doc = json.loads({json.dumps(json.dumps(manifest_for(adapter)))})
        reg.publish({str(adapter)!r}, {str(registry)!r}, "demo", doc)
        """)])
    try:
        deadline = time.time() + 60
        while not list(registry.glob(".demo.publish-*/" + reg._OWNER)) and time.time() < deadline:
            time.sleep(0.1)
        assert list(registry.glob(".demo.publish-*")), "the child never started publishing"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    orphans = list(registry.glob(".demo.publish-*"))
    assert len(orphans) == 1  # killed: its temp folder stays, invisible to the registry
    assert [p.name for p in sorted((registry / "demo").iterdir())] == ["v1"]
    second = reg.publish(adapter, registry, "demo", manifest_for(adapter))
    assert second.name == "v2" and not list(registry.glob(".*"))  # the orphan is gone, nothing half-written
    assert reg.verify_adapter(second, "b" * 64)["version"] == "v2"


def test_a_registry_that_is_not_writable_is_a_clear_error(tmp_path, monkeypatch):
    adapter = fake_adapter(tmp_path / "cand")

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(reg.tempfile, "mkdtemp", denied)
    with pytest.raises(HarnessError, match=r"the registry .*adapters is not writable"):
        reg.publish(adapter, tmp_path / "adapters", "demo", manifest_for(adapter))
