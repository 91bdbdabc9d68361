"""Every benchmark script still runs: its --smoke version (seconds, on the embedded model).

The full benchmarks are long and their numbers depend on the machine, so CI only checks
that each script works end to end and prints its table; docs/performance.md has the numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# script -> a line its smoke run must print
EXPECTED = {
    "bench_generation.py": "identical to one at a time",
    "bench_cache.py": "warm results identical to cold: yes",
    "bench_memory.py": "peak RSS:",
    "bench_load.py": "converted cache (safetensors)",
    "bench_server.py": "server supports:",
    "bench_demo.py": "its stage process, sampled",
    "bench_train_step.py": "s per 1k tokens",
    "heldout_check.py": "harmful refused",
    "demo_floor.py": "lower bound on make demo",
}


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_smoke_version_runs(script, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--smoke"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,  # not the repo: scripts must find it themselves
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "--smoke" in proc.stdout and EXPECTED[script] in proc.stdout, proc.stdout
    if script == "bench_train_step.py":  # the token count comes from TRL's log lines, printed only with --verbose
        assert not re.search(r"\bNone\b", proc.stdout.rsplit("variant", 1)[-1]), proc.stdout
