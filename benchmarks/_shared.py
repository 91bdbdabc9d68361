"""What the benchmark scripts share: environment, suites, child processes, tables.

Not a benchmark itself (hence the underscore). Each ``bench_*.py`` imports it from its own
directory, which Python puts on ``sys.path`` when the script is run as a file.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run from a checkout without installing it

# The same defaults as the Makefile: offline, TruthfulQA from the sibling data folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep the tables readable
# Data sets (TruthfulQA, XSTest, the TruthfulQA judge labels) are found by harness.data_paths.

from harness.table import render  # noqa: E402  (after the path and environment are set)

# A tiny suite for the --smoke runs: two generations and one log-likelihood pair.
SMOKE_SUITE = """\
name: smoke
generation: {max_new_tokens: 8}
cases:
  - id: hello
    prompt: Say hello.
    checks:
      - length: {max_words: 100}
  - id: bye
    prompt: Say goodbye.
    checks:
      - length: {max_words: 100}
  - id: sky
    prompt: "The sky is"
    checks:
      - preference: {chosen: " blue", rejected: " green"}
thresholds:
  - {metric: pass_rate, min: 0.0}
"""

CHILD_MARK = "BENCH-RESULT "  # prefix of the one stdout line a child process reports on


def machine() -> str:
    """One line on where the numbers were taken: CPU count and the thread limit in force."""
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return f"{platform.node()}: {os.cpu_count()} CPUs, OMP_NUM_THREADS={threads}, Python {platform.python_version()}"


def header(title: str, smoke: bool) -> None:
    print(f"# {title}{'  (--smoke: tiny version, numbers not meaningful)' if smoke else ''}")
    print(f"# {machine()}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S')}\n", flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    return render(headers, rows)


def suite_paths(names: Sequence[str]) -> list[Path]:
    from harness.loader import find_suites

    return find_suites([str(REPO / n) if not Path(n).exists() else n for n in names])


def load_suites(names: Sequence[str]):
    """The suites (``Suite`` objects) in files or directories ``names``, skipped ones included."""
    from harness.loader import load_suite

    return [load_suite(p) for p in suite_paths(names)]


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_seconds() -> float:
    """CPU time (user + system) this process has used: unlike wall time, barely changed by
    other processes competing for the CPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(result: dict[str, Any]) -> None:
    """Called in a child process: hand ``result`` (plus peak RSS and CPU time) back to the parent."""
    result = {**result, "peak_rss_mb": peak_rss_mb(), "process_cpu_s": cpu_seconds()}
    print(CHILD_MARK + json.dumps(result), flush=True)


def run_child(script: Path, args: Sequence[str], env: dict[str, str] | None = None,
              timeout: float | None = None) -> dict[str, Any]:
    """Run ``script --child ARGS`` in a fresh interpreter; return what it :func:`report`-ed.

    A fresh process per measurement: nothing imported, loaded or cached in memory by an
    earlier measurement can flatter a later one. Its stderr goes straight to ours.
    """
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(script), "--child", *args], stdout=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})}, timeout=timeout, cwd=REPO,
    )
    wall = time.perf_counter() - started
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CHILD_MARK)]
    if proc.returncode != 0 or not lines:
        sys.stdout.write(proc.stdout)
        raise SystemExit(f"benchmark child {script.name} {' '.join(args)} failed (exit {proc.returncode})")
    return {**json.loads(lines[-1][len(CHILD_MARK):]), "process_s": wall}


def matmul_gflops(size: int = 1024, seconds: float = 2.0) -> float:
    """fp32 ``torch.matmul`` throughput with the threads torch uses here: the per-token ceiling."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.matmul(a, b)
        n += 1
    return 2 * size**3 * n / (time.perf_counter() - start) / 1e9


def count_params(directory: Path, matrices_only: bool = False, skip: tuple[str, ...] = ()) -> int:
    """Parameters stored in a model's or an adapter's ``*.safetensors`` files (read from the headers);
    with ``matrices_only``, those of 2-D tensors alone (the weights a matmul reads; no norms, biases);
    tensors whose name contains a string of ``skip`` are left out."""
    from safetensors import safe_open

    total = 0
    for f in Path(directory).glob("*.safetensors"):
        with safe_open(str(f), "pt") as handle:
            for key in handle.keys():
                if any(part in key for part in skip):
                    continue
                shape = handle.get_slice(key).get_shape()
                total += math.prod(shape) if len(shape) == 2 or not matrices_only else 0
    return total


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "inf"


def fold_of(key: str, folds: int = 5) -> int:
    """A stable fold for grouped cross-validation: every row with the same key lands in one fold."""
    import hashlib

    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % folds


def binary_scores(pred: Sequence[bool], truth: Sequence[bool]) -> dict[str, float]:
    """n, accuracy, precision and recall of a yes/no detector (the positive class is True)."""
    pred, truth = [bool(p) for p in pred], [bool(t) for t in truth]
    tp = sum(p and t for p, t in zip(pred, truth))
    return {"n": len(truth), "accuracy": round(sum(p == t for p, t in zip(pred, truth)) / max(len(truth), 1), 3),
            "precision": round(tp / max(sum(pred), 1), 3), "recall": round(tp / max(sum(truth), 1), 3)}
