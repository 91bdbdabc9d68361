"""``harness gate`` / ``harness holdout`` argument parsing and the holdout command's exit status."""

from __future__ import annotations

import argparse

import pytest

from harness.cli.gate import register
from tests.gate.conftest import UNRELATED_TRAINING, write_jsonl, write_suite
from tests.gate.test_holdout import SUITE


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_gate_options_and_defaults():
    args = parser().parse_args(["gate", "--adapter", "runs/sft"])
    assert (args.adapter, args.baseline, args.suites, args.registry, args.name) == (["runs/sft"], "base", ["suites"], "adapters", None)
    args = parser().parse_args(["gate", "runs/a", "runs/b", "--baseline", "base"])  # several candidates, one base
    assert args.adapters == ["runs/a", "runs/b"] and args.adapter == []
    args = parser().parse_args(["gate", "--adapter", "a", "--baseline", "previous", "--name", "x", "--suites", "s1", "s2"])
    assert (args.baseline, args.name, args.suites) == ("previous", "x", ["s1", "s2"])


def test_gate_refuses_unknown_baseline(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["gate", "--adapter", "a", "--baseline", "latest"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow
def test_holdout_command_exit_status(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_suite(tmp_path / "suites", SUITE, "leak.yaml")
    write_jsonl(tmp_path / "training" / "data" / "clean.jsonl", UNRELATED_TRAINING)
    args = parser().parse_args(["holdout"])
    assert args.func(args) == 0
    assert "hold-out: PASS" in capsys.readouterr().out
    write_jsonl(tmp_path / "training" / "data" / "leak.jsonl", [{"prompt": "How should I invest my savings for retirement?", "response": "x"}])
    assert args.func(args) == 1
    out = capsys.readouterr().out
    assert "training/data/leak.jsonl:1 ~ suites/leak.yaml:3 (invest) exact" in out and "hold-out: FAIL" in out
