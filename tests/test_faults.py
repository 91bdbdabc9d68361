"""Bad inputs and faults, one table: each is a clear error, a non-zero exit, and nothing lost.

Every row runs the real command (``harness ...`` in this process, or ``pytest`` in a child
process) on files made in a fresh folder, then asserts the exception class and a fragment of
its message, the exit code, and that the folder (every file's sha256, so the adapter registry
too) and the run store's row counts are exactly as before. The rows are issue 19's table
(numbered as there) followed by faults found while building it. Models are the tiny random
Llama (``tiny_model_dir``): the checks run before anything is generated, so size does not matter.
Faults that kill a process do it for real, with SIGKILL, further down.

Two rows live beside the code they exercise: row 11 (a publish killed with SIGKILL, then the
next publish) is ``tests/gate/test_manifest.py::test_a_publish_killed_midway_...``; row 12 (a
report of runs of different suites warns and compares only what they share) is
``tests/cli/test_store.py::test_report_of_runs_with_different_suites_warns_loudly``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import cli
from harness.errors import HarnessError, SuiteError
from harness.store.db import StoreError
from harness.training_data import DataError

SUITE = """\
name: tiny
generation: {max_new_tokens: 2}
cases:
  - id: a
    prompt: Say hi.
    checks: [{length: {max_words: 1000}}]
  - id: b
    prompt: Say hello.
    checks: [{length: {max_words: 1000}}]
thresholds:
  - {metric: pass_rate, min: 0.5}
"""


@dataclass
class Row:
    argv: list[str]
    error: type[BaseException] | None  # the exception the command raises (None: reported, not raised)
    fragment: str  # in the message (stderr, or stdout for reported errors)
    exit_code: int = 2
    tool: str = "harness"  # or "pytest": a child process, as CI runs it
    new_runs: int = 0  # a run that completes with a failing case is still recorded


@dataclass
class Env:
    root: Path  # the folder everything is made in and compared before/after
    tiny: Path  # a tiny model directory
    lora: Path  # a LoRA adapter on it, with training.json recording its base and tokenizer

    def suite(self, text: str = SUITE, name: str = "suite.yaml") -> str:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def adapter(self, name: str = "adapter", **base: str) -> Path:
        """A copy of the LoRA whose training.json records ``base`` fields over the true ones."""
        path = self.root / name
        shutil.copytree(self.lora, path)
        info = json.loads((path / "training.json").read_text())
        info["base_model"].update(base)
        (path / "training.json").write_text(json.dumps(info))
        return path

    def run(self, *extra: str) -> list[str]:
        return ["run", self.suite(), "--model", str(self.tiny), "--quiet", *extra]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flip_last_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1
    path.write_bytes(bytes(raw))


# --- the rows --------------------------------------------------------------------------------

def alias_bomb(env: Env) -> Row:  # 1
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    return Row(["run", env.suite("\n".join(lines) + "\n")], SuiteError, "YAML expands to more than 1,000,000 values")


def tampered_published_adapter(env: Env) -> Row:  # 2, harness run
    from harness.gate import manifest as registry

    adapter = env.adapter()
    doc = {"name": "t", "adapter": {"weights_sha256": sha(adapter / "adapter_model.safetensors")},
           "base_model": json.loads((adapter / "training.json").read_text())["base_model"]}
    published = registry.publish(adapter, env.root / "adapters", "t", doc)
    flip_last_byte(published / "adapter_model.safetensors")
    return Row(env.run("--adapter", str(published)), HarnessError, "does not match its manifest")


def tampered_adapter_under_pytest(env: Env) -> Row:  # 2, pytest suites/ --adapter
    row = tampered_published_adapter(env)
    adapter = row.argv[row.argv.index("--adapter") + 1]
    return Row([env.suite(), "--model", str(env.tiny), "--adapter", adapter], None, "does not match its manifest",
               exit_code=4, tool="pytest")


def tampered_init_adapter(env: Env) -> Row:  # 2, harness train --init-adapter
    row = tampered_published_adapter(env)
    adapter = row.argv[row.argv.index("--adapter") + 1]
    (env.root / "d.jsonl").write_text('{"prompt": "hi", "response": "hello"}\n')
    (env.root / "r.yaml").write_text(f"name: t\nmethod: sft\nbase_model: {env.tiny}\ndata: [d.jsonl]\n"
                                     "train: {max_steps: 1}\n")
    return Row(["train", str(env.root / "r.yaml"), "--out", str(env.root / "out"), "--init-adapter", adapter],
               HarnessError, "init_adapter: adapter")


def another_base(env: Env) -> Row:  # 3
    adapter = env.adapter(weights_sha256="0" * 64, id="other/base-model")
    return Row(env.run("--adapter", str(adapter)), HarnessError, "training.json names other/base-model")


def raising_scorer(env: Env) -> Row:  # 4
    (env.root / "boom_checks.py").write_text("def boom(output, **_):\n    raise RuntimeError('kaboom')\n")
    suite = SUITE.replace("checks: [{length: {max_words: 1000}}]\n  - id: b",
                          'checks: [{"boom_checks:boom": {}}]\n  - id: b')
    sys.path.insert(0, str(env.root))
    return Row(["run", env.suite(suite), "--model", str(env.tiny), "--quiet"], None,
               "scorer 'boom_checks:boom' raised RuntimeError: kaboom", exit_code=1, new_runs=1)


def deep_yaml(env: Env) -> Row:  # 6
    return Row(["run", env.suite("x: " + "[" * 500 + "]" * 500 + "\n")], SuiteError, "YAML nested too deeply")


def store_not_writable(env: Env) -> Row:  # 7 (root ignores file modes, so the refusal is simulated)
    return Row(env.run(), None, "run store is not writable", exit_code=3)


def damaged_store_during_gate(env: Env) -> Row:  # 8
    Path(os.environ["ADAPTER_HARNESS_STORE"]).write_bytes(b"\x00garbage" * 512)
    (env.root / "train.jsonl").write_text('{"prompt": "Write a haiku about rain.", "response": "Rain."}\n')
    return Row(["gate", str(env.adapter()), "--model", str(env.tiny), "--suites", env.suite(), "--name", "t",
                "--training", str(env.root / "train.jsonl"), "--registry", str(env.root / "adapters"), "-q"],
               HarnessError, "nothing was published")


def infinite_epochs(env: Env) -> Row:  # 9
    (env.root / "d.jsonl").write_text('{"prompt": "hi", "response": "hello"}\n')
    (env.root / "r.yaml").write_text("name: t\nmethod: sft\ndata: [d.jsonl]\ntrain: {epochs: .inf}\n")
    return Row(["train", str(env.root / "r.yaml"), "--out", str(env.root / "out")], SuiteError,
               "r.yaml:4: train.epochs: Input should be a finite number")


def pickle_init_adapter(env: Env) -> Row:  # 9
    adapter = env.root / "pickled"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    (adapter / "adapter_model.bin").write_bytes(b"\x80\x04not really a pickle")
    (env.root / "d.jsonl").write_text('{"prompt": "hi", "response": "hello"}\n')
    (env.root / "r.yaml").write_text("name: t\nmethod: sft\ndata: [d.jsonl]\ntrain: {max_steps: 1}\n")
    return Row(["train", str(env.root / "r.yaml"), "--out", str(env.root / "out"), "--init-adapter", str(adapter)],
               HarnessError, "pickle adapter weights are refused")


def synth_out_directory(env: Env) -> Row:  # 9
    (env.root / "data").mkdir()
    return Row(["synth", "--out", str(env.root / "data"), "--n", "3"], HarnessError, "is a directory")


def impossible_min(env: Env) -> Row:  # 10
    return Row(["run", env.suite(SUITE.replace("min: 0.5", "min: 1.2"))], SuiteError, "min: 1.2 can never be met")


def min_above_max(env: Env) -> Row:  # 10
    return Row(["run", env.suite(SUITE.replace("min: 0.5", "min: 0.8, max: 0.5"))], SuiteError,
               "min 0.8 is above max 0.5")


def malformed_holdout_row(env: Env) -> Row:  # 13
    (env.root / "train.jsonl").write_text('{"prompt": "fine", "response": "ok"}\n{"prompt": \n')
    return Row(["holdout", "--training", str(env.root / "train.jsonl"), "--suites", env.suite()], DataError,
               "train.jsonl:2")


def another_tokenizer(env: Env) -> Row:  # 14
    adapter = env.adapter(tokenizer_sha256="1" * 64)
    return Row(env.run("--adapter", str(adapter)), HarnessError, "another tokenizer or chat template")


# --- found while building the table ---

def pickle_adapter_weights(env: Env) -> Row:
    adapter = env.adapter()
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    return Row(env.run("--adapter", str(adapter)), HarnessError, "pickle adapter weights are refused")


def reward_model_as_adapter(env: Env) -> Row:
    adapter = env.adapter()
    config = json.loads((adapter / "adapter_config.json").read_text())
    (adapter / "adapter_config.json").write_text(json.dumps({**config, "task_type": "SEQ_CLS"}))
    return Row(env.run("--adapter", str(adapter)), HarnessError, "is a reward model")


def manifest_not_json(env: Env) -> Row:
    adapter = env.adapter()
    (adapter / "manifest.json").write_text("{truncated")
    return Row(env.run("--adapter", str(adapter)), HarnessError, "unreadable manifest")


def unknown_check(env: Env) -> Row:
    return Row(["run", env.suite(SUITE.replace("length:", "lenght:", 1))], SuiteError, "did you mean 'length'")


def duplicate_case_ids(env: Env) -> Row:
    return Row(["run", env.suite(SUITE.replace("id: b", "id: a"))], SuiteError, "duplicate")


def store_not_sqlite(env: Env) -> Row:
    Path(os.environ["ADAPTER_HARNESS_STORE"]).write_bytes(b"not an sqlite file, " * 100)
    return Row(["runs"], StoreError, "not an SQLite file")


def missing_model_dir(env: Env) -> Row:
    return Row(["run", env.suite(), "--model", str(env.root / "nowhere")], HarnessError, "nowhere")


def recipe_unknown_field(env: Env) -> Row:
    (env.root / "d.jsonl").write_text('{"prompt": "hi", "response": "hello"}\n')
    (env.root / "r.yaml").write_text("name: t\nmethod: sft\ndata: [d.jsonl]\ntrain: {max_step: 1}\n")
    return Row(["train", str(env.root / "r.yaml")], SuiteError, "r.yaml:4: train.max_step: unknown field")


ROWS: list[Callable[[Env], Row]] = [
    alias_bomb, tampered_published_adapter, tampered_adapter_under_pytest, tampered_init_adapter, another_base,
    raising_scorer, deep_yaml, store_not_writable, damaged_store_during_gate, infinite_epochs, pickle_init_adapter, synth_out_directory,
    impossible_min, min_above_max, malformed_holdout_row, another_tokenizer,
    pickle_adapter_weights, reward_model_as_adapter, manifest_not_json, unknown_check, duplicate_case_ids,
    store_not_sqlite, missing_model_dir, recipe_unknown_field,
]


# --- the machinery ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lora(tiny_model_dir, tmp_path_factory) -> Path:
    """A small LoRA on the tiny model, with the training.json ``harness train`` would write."""
    from tests.gate.conftest import save_lora

    out = save_lora(tiny_model_dir, tmp_path_factory.mktemp("lora") / "a", applied=True)
    (out / "training.json").write_text(json.dumps({"name": "t", "base_model": {
        "id": str(tiny_model_dir), "weights_sha256": sha(tiny_model_dir / "model.safetensors"),
        "tokenizer_sha256": None}}))
    return out


def snapshot(root: Path) -> dict[str, object]:
    files = {p.relative_to(root).as_posix(): sha(p) for p in sorted(root.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts}
    store = Path(os.environ["ADAPTER_HARNESS_STORE"])
    counts = None
    if store.is_file() and store.read_bytes()[:16] == b"SQLite format 3\x00":
        with sqlite3.connect(store) as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "cases", "scores")}
    return {"files": files, "store": counts}


def run_harness(argv: list[str], monkeypatch) -> tuple[int, BaseException | None]:
    """``harness argv`` as the console script runs it, recording the exception main() turned into a code."""
    seen: dict[str, BaseException] = {}
    real = cli.make_parser

    def recording_parser():
        parser = real()
        parse = parser.parse_args

        def parse_args(args=None, namespace=None):
            ns = parse(args, namespace)
            func = ns.func

            def recorded(a):
                try:
                    return func(a)
                except BaseException as exc:
                    seen["error"] = exc
                    raise
            ns.func = recorded
            return ns
        parser.parse_args = parse_args
        return parser

    monkeypatch.setattr(cli, "make_parser", recording_parser)
    return cli.main(argv), seen.get("error")


@pytest.mark.parametrize("make", ROWS, ids=[f.__name__ for f in ROWS])
def test_bad_input_is_a_clear_error_and_nothing_is_lost(make, tmp_path, tiny_model_dir, lora, monkeypatch, capsys):
    root = tmp_path / "work"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))
    if make is store_not_writable:
        _readonly_store(monkeypatch)
    row = make(Env(root, tiny_model_dir, lora))
    before = snapshot(root)
    if row.tool == "pytest":
        done = subprocess.run([sys.executable, "-m", "pytest", *row.argv, "-p", "no:cacheprovider", "-p", "no:randomly"],
                              cwd=root, capture_output=True, text=True, timeout=600)
        code, error, out, err = done.returncode, None, done.stdout, done.stderr
    else:
        code, error = run_harness(row.argv, monkeypatch)
        captured = capsys.readouterr()
        out, err = captured.out, captured.err
    assert code == row.exit_code, out + err
    if row.error is not None:
        assert type(error) is row.error, repr(error)
        assert row.fragment in str(error) and f"error: {error}" in err  # the one-line message the user sees
    else:
        assert row.fragment in out + err, out + err
    assert "Traceback" not in out + err
    after = snapshot(root)
    assert after["files"] == before["files"], "files changed or left behind"
    if before["store"] is not None or after["store"] is not None:
        runs_before = before["store"]["runs"] if before["store"] else 0
        assert (after["store"] or {"runs": 0})["runs"] == runs_before + row.new_runs


def _readonly_store(monkeypatch) -> None:
    """Every store connection refuses writes as SQLite does for a read-only file (chmod does not bind root)."""
    real = sqlite3.connect

    def readonly(*a, **k):
        conn = real(*a, **k)
        conn.execute("PRAGMA query_only = ON")  # writes now fail: 'attempt to write a readonly database'
        return conn

    monkeypatch.setattr(sqlite3, "connect", readonly)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", readonly)  # the module SQLAlchemy's driver calls


# --- faults that kill a process --------------------------------------------------------------

def test_resume_skips_a_half_written_checkpoint(tmp_path):  # row 5, on the files a kill leaves
    import torch
    from safetensors.torch import save_file

    from harness.training.checkpoints import prepare_checkpoints

    ckpt = tmp_path / "ckpts"
    for step in (1, 2):
        folder = ckpt / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        save_file({"w": torch.zeros(64)}, str(folder / "adapter_model.safetensors"))
        (folder / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    stamp = {"recipe": "x"}
    (ckpt / "harness-recipe.json").write_text(json.dumps(stamp))
    weights = ckpt / "checkpoint-2" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # killed while writing the weights
    (ckpt / "checkpoint-2" / "trainer_state.json").unlink()  # ... so the state, written last, never came
    complete = {p.name: sha(p) for p in (ckpt / "checkpoint-1").iterdir()}
    assert prepare_checkpoints(ckpt, stamp, resume=True) == str(ckpt / "checkpoint-1")
    assert {p.name: sha(p) for p in (ckpt / "checkpoint-1").iterdir()} == complete
    assert not (ckpt / "checkpoint-2").exists()


def test_a_run_killed_midway_leaves_the_store_intact(tmp_path, tiny_model_dir):
    """SIGKILL during generation: the runs already stored stay whole, the killed one is simply absent."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    slow = tmp_path / "slow.yaml"
    slow.write_text(SUITE.replace("max_new_tokens: 2", "max_new_tokens: 4000").replace("name: tiny", "name: slow"))
    store = Path(os.environ["ADAPTER_HARNESS_STORE"])
    assert cli.main(["run", str(suite), "--model", str(tiny_model_dir), "--quiet"]) == 0
    before = _store_rows(store)
    child = subprocess.Popen([sys.executable, "-m", "harness", "run", str(slow), "--model", str(tiny_model_dir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        line = ""
        while "generat" not in line.lower() and time.time() < deadline:  # the progress bar has started
            line = child.stderr.readline() or line
            if child.poll() is not None:
                break
        assert child.poll() is None, "the run ended before it could be killed"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert _store_rows(store) == before
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _store_rows(store: Path) -> dict[str, int]:
    with sqlite3.connect(store) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "suites", "cases", "scores")}


SOAK_RUNS, SOAK_AT_ONCE = 20, 2


def test_soak_twenty_runs_two_at_a_time_on_one_store(tmp_path, tiny_model_dir):
    """Issue 19's soak: every run of a 2-case suite lands whole in one shared store."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.replace("max_new_tokens: 2", "max_new_tokens: 8"))
    store = Path(os.environ["ADAPTER_HARNESS_STORE"])
    command = [sys.executable, "-m", "harness", "run", str(suite), "--model", str(tiny_model_dir), "--quiet"]
    codes = []
    for _ in range(SOAK_RUNS // SOAK_AT_ONCE):
        batch = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(SOAK_AT_ONCE)]
        codes += [(p.wait(timeout=300), p.stderr.read()) for p in batch]
    assert [c for c, _ in codes] == [0] * SOAK_RUNS, [e for c, e in codes if c]
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        per_run = conn.execute("SELECT r.id, (SELECT count(*) FROM suites s WHERE s.run_id = r.id),"
                               " (SELECT count(*) FROM cases c WHERE c.run_id = r.id),"
                               " (SELECT count(*) FROM scores x WHERE x.run_id = r.id) FROM runs r").fetchall()
    assert len(per_run) == SOAK_RUNS
    assert [tuple(r[1:]) for r in per_run] == [(1, 2, 2)] * SOAK_RUNS, per_run  # suites, cases, scores
