"""Peak memory (RSS) of evaluating every suite on the embedded model.

The evaluation runs in a fresh child process, with the result cache off (so every case
really runs on the model) and nothing saved; the child samples its own peak RSS
(``getrusage``'s ru_maxrss, a high-water mark) after each stage. The parent also reads
the children's high-water mark from its own ``getrusage(RUSAGE_CHILDREN)`` as a cross-check.
Target: <= 2 GB.

    python benchmarks/bench_memory.py            # all of suites/
    python benchmarks/bench_memory.py --smoke    # one tiny suite
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import _shared

LIMIT_MB = 2048


def child(args: argparse.Namespace) -> None:
    stages = {"python + harness imported": _shared.peak_rss_mb()}
    import torch  # noqa: F401  (counted on its own: every model run pays it)
    import transformers  # noqa: F401

    stages["torch + transformers imported"] = _shared.peak_rss_mb()
    from harness.backends import load_backend
    from harness.runner import run_suites

    suites = _shared.load_suites(args.suites)
    stages["suites loaded"] = _shared.peak_rss_mb()
    backend = load_backend(None, batch_size=args.batch_size, progress=False)
    stages["embedded model loaded"] = _shared.peak_rss_mb()
    started = time.perf_counter()
    result = run_suites(suites, backend)
    seconds = time.perf_counter() - started
    stages["all suites run (generation, log-likelihoods, scoring)"] = _shared.peak_rss_mb()
    cases = sum(len(s.cases) for s in result.suites.values())
    _shared.report({"stages": stages, "run_s": seconds, "cases": cases})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories (default: suites/)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="tiny version: a 3-case suite (seconds)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    _shared.header("bench_memory: peak RSS while running the suites on the embedded model", args.smoke)
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if args.smoke:
            (Path(tmp) / "smoke.yaml").write_text(_shared.SMOKE_SUITE)
            args.suites = [str(Path(tmp) / "smoke.yaml")]
        # The child calls run_suites directly: no result cache, nothing written to a store.
        out = _shared.run_child(Path(__file__), ["--suites", *args.suites, "--batch-size", str(args.batch_size)],
                                env={"ADAPTER_HARNESS_STORE": "off"})
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # bytes on macOS
    children_peak = children_kib / (1024**2 if sys.platform == "darwin" else 1024)
    rows = [[stage, f"{mb:.0f}"] for stage, mb in out["stages"].items()]
    print(_shared.table(["stage (peak so far)", "peak RSS MiB"], rows))
    peak = max(out["peak_rss_mb"], children_peak)
    print(f"\n{out['cases']} cases in {out['run_s']:.0f} s wall, {out['process_cpu_s']:.0f} s CPU for the whole "
          f"process (batch size {args.batch_size})")
    print(f"peak RSS: {peak:.0f} MiB = {peak / 1024:.2f} GiB (target <= {LIMIT_MB / 1024:.0f} GiB): "
          f"{'OK' if peak <= LIMIT_MB else 'OVER'}")


if __name__ == "__main__":
    main()
