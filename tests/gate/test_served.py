"""The gate on a served adapter: applied-check by answers, evaluation through the server, a manifest-only
registry entry that records the server and says the weights were not verified (a fake OpenAI-compatible
server stands in for vLLM's --lora-modules here; tests/backends/test_server.py uses a real one)."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from tests.fake_openai import CHAT, Fake
from tests.test_faults import SUITE


def by_model(answers: dict[str, str]):
    """Fake answers that depend on the requested model name."""
    def answer(body):
        return 200, {**CHAT, "choices": [{**CHAT["choices"][0], "message": {"role": "assistant",
                                                                            "content": answers[body["model"]]}}]}
    return answer


def gate_argv(tmp_path, base_url, *extra):
    (tmp_path / "suite.yaml").write_text(SUITE)
    (tmp_path / "train.jsonl").write_text('{"prompt": "Write a haiku about rain.", "response": "Rain."}\n')
    return ["gate", "m-lora", "--backend", "openai-compatible", "--base-url", base_url, "--model", "m",
            "--suites", str(tmp_path / "suite.yaml"), "--training", str(tmp_path / "train.jsonl"),
            "--registry", str(tmp_path / "reg"), "--fingerprint", "sha256:abc", "-q", *extra]


def test_an_accepted_served_adapter_is_published_as_a_manifest_naming_the_server(fake_openai, tmp_path, monkeypatch):
    from harness.cli import main

    monkeypatch.setattr(Fake, "script", [(by_model({"m": "Hello.", "m-lora": "Hello there, friend."}), None)])
    assert main(gate_argv(tmp_path, fake_openai)) == 0
    (version,) = (tmp_path / "reg" / "m-lora").iterdir()
    assert sorted(p.name for p in version.iterdir()) == ["manifest.json"]  # the weights stay with the server
    doc = json.loads((version / "manifest.json").read_text())
    assert doc["adapter"] == {"served_name": "m-lora", "fingerprint": "sha256:abc", "weights_sha256": None,
                              "integrity": "not verified by the harness: the weights are behind a server"}
    assert doc["server"]["base_url"] == fake_openai and doc["server"]["models"] == ["m", "m-lora"]
    assert doc["verdict"] == "accepted"


def test_a_served_adapter_that_changes_nothing_is_refused(fake_openai, tmp_path, monkeypatch):
    from harness.cli import main

    monkeypatch.setattr(Fake, "script", [(by_model({"m": "Hello.", "m-lora": "Hello."}), None)])
    assert main(gate_argv(tmp_path, fake_openai)) == 2
    assert not (tmp_path / "reg").exists() or not any((tmp_path / "reg").iterdir())


def test_previous_baseline_needs_local_adapters(fake_openai, tmp_path):
    from harness.backend import ServerOptions
    from harness.gate.gate import run_gate_many

    with pytest.raises(HarnessError, match="--baseline base"):
        run_gate_many(["m-lora"], model="m", baseline="previous", server=ServerOptions(fake_openai))
