"""`accelerate launch --num_processes 2 -m harness run` on CPU (gloo): each process runs every other batch,
and the run is the single-process run: same outputs, log-likelihoods, scores, verdict; stored once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SUITE = """\
name: dp
generation: {max_new_tokens: 6}
cases:
""" + "".join(f"""  - id: g{i}
    prompt: "Tell me about item number {i}{' please' * i}."
    checks: [{{length: {{max_words: 1000}}}}]
""" for i in range(7)) + "".join(f"""  - id: mc{i}
    prompt: "Q: Which is bigger, {i} or {i + 1}?\\nA:"
    template: raw
    tags: [mc]
    checks: [{{choice: {{choices: [" {i}", " {i + 1}", " neither"], correct: [1], mode: mc1}}}}]
""" for i in range(5)) + """thresholds:
  - {metric: pass_rate, min: 0.0}
  - {metric: mc1, min: 0.0}
"""


def launch(argv: list[str], env: dict[str, str], cwd: Path, processes: int) -> subprocess.CompletedProcess:
    from harness.backends.local_server import free_port

    prefix = [sys.executable, "-m", "harness"] if processes == 1 else [
        # --multi_gpu is accelerate's torchrun launcher; with no GPU the processes join over gloo on the CPU
        str(Path(sys.executable).with_name("accelerate")), "launch", "--multi_gpu", "--num_processes", str(processes),
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()), "-m", "harness"]
    return subprocess.run([*prefix, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_two_processes_give_the_single_process_run(tmp_path, tiny_model_dir):
    (tmp_path / "dp.yaml").write_text(SUITE)
    runs = {}
    for processes in (1, 2):
        store = tmp_path / f"runs-{processes}.sqlite3"
        env = {**os.environ, "ADAPTER_HARNESS_STORE": str(store), "OMP_NUM_THREADS": "1"}
        argv = ["run", "dp.yaml", "--model", str(tiny_model_dir), "--batch-size", "2", "--no-cache", "-q",
                "--results", f"r{processes}.json"]
        done = launch(argv, env, tmp_path, processes)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        assert done.stdout.count("verdict: PASS") == 1  # printed once, by the first process
        with sqlite3.connect(store) as conn:
            assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1  # stored once
        runs[processes] = json.loads((tmp_path / f"r{processes}.json").read_text())["suites"]["dp.yaml"]
    one, two = runs[1], runs[2]
    assert [(c["id"], c["output"], c["scores"]) for c in one["cases"]] == \
           [(c["id"], c["output"], c["scores"]) for c in two["cases"]]
    assert one["metrics"] == two["metrics"] and one["thresholds"] == two["thresholds"]
    assert len(one["cases"]) == 12
