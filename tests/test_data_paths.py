"""One resolver for data locations: explicit path, then the variable, then the checkout's sibling copy."""

from __future__ import annotations

import os

from harness import data_paths


def test_order_explicit_then_variable_then_sibling_then_none(tmp_path, monkeypatch):
    monkeypatch.setattr(data_paths, "CHECKOUT", tmp_path / "repo")
    sibling = tmp_path / "shared" / "data" / "truthfulqa"
    monkeypatch.delenv("ADAPTER_HARNESS_TRUTHFULQA", raising=False)
    assert data_paths.locate("truthfulqa") is None  # nothing anywhere: the caller tries the hub
    sibling.mkdir(parents=True)
    assert data_paths.locate("truthfulqa") is None  # a folder without the data does not count
    (sibling / "generation.jsonl").write_text("{}\n")
    assert data_paths.locate("truthfulqa") == data_paths.Located(sibling, "checkout")
    monkeypatch.setenv("ADAPTER_HARNESS_TRUTHFULQA", str(tmp_path / "env"))
    assert data_paths.locate("truthfulqa") == data_paths.Located(tmp_path / "env", "ADAPTER_HARNESS_TRUTHFULQA")
    found = data_paths.locate("truthfulqa", "../mine", tmp_path / "suites")
    assert found == data_paths.Located(tmp_path / "suites" / "../mine", "data_dir")


def test_commands_never_write_the_environment(tmp_path, monkeypatch, capsys):
    from harness.cli import main

    before = dict(os.environ)
    (tmp_path / "s.yaml").write_text("name: s\ncases:\n  - id: a\n    prompt: hi\n    checks: [{length: {max_words: 9}}]\n"
                                      "thresholds:\n  - {metric: pass_rate, min: 0.5}\n")
    assert main(["validate", str(tmp_path / "s.yaml")]) == 0
    assert dict(os.environ) == before
