"""`harness train` and `harness synth` as registered on an argparse parser (the lead's CLI calls register)."""

from __future__ import annotations

import argparse
import json
import textwrap

import pytest

from harness.cli.train import register
from harness.errors import HarnessError, SuiteError
from tests.training.conftest import PREF_ROWS, SFT_ROWS


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness")
    register(p.add_subparsers(dest="command", required=True))
    return p


def run(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


def test_train_options_parse():
    args = parser().parse_args(["train", "r.yaml", "--out", "o", "--resume", "--max-steps", "3", "--overwrite"])
    assert (args.recipe, args.out, args.resume, args.max_steps, args.overwrite) == ("r.yaml", "o", True, 3, True)
    assert args.init_adapter is None and args.dry_run is False


def test_dry_run_validates_recipe_and_data(data_dir, capsys):
    (data_dir / "r.yaml").write_text("name: tiny\nmethod: sft\ndata: [sft.jsonl]\n", encoding="utf-8")
    assert run(["train", str(data_dir / "r.yaml"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"sft.jsonl: {len(SFT_ROWS)} rows (prompt_response)" in out and "tiny: ok (sft, 4 rows)" in out


def test_dry_run_reports_bad_data_with_its_line(data_dir):
    (data_dir / "bad.jsonl").write_text(json.dumps(PREF_ROWS[0]) + "\n{broken\n", encoding="utf-8")
    (data_dir / "r.yaml").write_text(textwrap.dedent("""\
        method: dpo
        data: [bad.jsonl]
        """), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"^bad.jsonl:2: invalid JSON"):
        run(["train", str(data_dir / "r.yaml"), "--dry-run"])


def test_bad_max_steps_is_a_usage_error(data_dir):
    with pytest.raises(HarnessError, match="--max-steps"):
        run(["train", "whatever.yaml", "--max-steps", "0"])


def test_synth_writes_reproducible_pairs(tmp_path, capsys):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert run(["synth", "--out", str(a), "--n", "12", "--seed", "5"]) == 0
    assert run(["synth", "--out", str(b), "--n", "12", "--seed", "5"]) == 0
    assert a.read_bytes() == b.read_bytes()
    rows = [json.loads(line) for line in a.read_text().splitlines()]
    assert len(rows) == 12 and set(rows[0]) == {"prompt", "chosen", "rejected", "topic"}
    assert "wrote 12 preference pairs" in capsys.readouterr().err
    assert run(["synth", "--out", str(b), "--n", "4", "--topics", "finance"]) == 0
    assert {json.loads(line)["topic"] for line in b.read_text().splitlines()} == {"finance"}


def test_synth_refuses_more_pairs_than_it_can_make(tmp_path):
    with pytest.raises(HarnessError, match="distinct prompts"):
        run(["synth", "--out", str(tmp_path / "x.jsonl"), "--n", "100000"])
    assert not (tmp_path / "x.jsonl").exists()


def test_synth_out_that_is_a_directory_is_refused_before_any_work(tmp_path, capsys):
    from harness.cli import main

    assert main(["synth", "--out", str(tmp_path), "--n", "3"]) == 2
    assert f"--out {tmp_path} is a directory; give the JSONL file to write" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_pickle_init_adapter_is_refused_before_training(tmp_path):
    import json

    from harness.errors import HarnessError
    from harness.training.recipes import load_recipe
    from harness.training.run import train

    adapter = tmp_path / "pickled"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (adapter / "adapter_model.bin").write_bytes(b"\\x80\\x04not really a pickle")
    (tmp_path / "d.jsonl").write_text('{"prompt": "hi", "response": "hello"}\n')
    (tmp_path / "r.yaml").write_text("name: t\nmethod: sft\ndata: [d.jsonl]\ntrain: {max_steps: 1}\n")
    with pytest.raises(HarnessError, match="pickle adapter weights are refused"):
        train(load_recipe(tmp_path / "r.yaml"), tmp_path / "out", init_adapter=str(adapter))
    assert not (tmp_path / "out").exists()
