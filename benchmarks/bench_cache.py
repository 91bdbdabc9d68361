"""Cold vs warm: every suite on the embedded model with an empty result cache, then again.

Each run is a fresh Python process calling ``harness.evaluate.evaluate()`` (what ``harness
run`` and ``pytest suites/`` do), both on the same new temporary run store: the cold run fills
the cache, the warm run should find every result there and run nothing on the model. Reports
both wall times, the warm time as a share of the cold one (target <= 5%), the cache hits, and
checks that the warm run's results equal the cold run's.

    python benchmarks/bench_cache.py            # all of suites/
    python benchmarks/bench_cache.py --smoke    # a 3-case suite, 8 new tokens
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import _shared


def child(args: argparse.Namespace) -> None:
    """One evaluation, as a user would run it; report its time, the cache's hits and the results."""
    from harness.evaluate import ModelSpec, evaluate

    suites = _shared.load_suites(args.suites)
    started, cpu = time.perf_counter(), _shared.cpu_seconds()
    result, _ = evaluate(suites, ModelSpec(), batch_size=args.batch_size, progress=False)
    seconds, cpu = time.perf_counter() - started, _shared.cpu_seconds() - cpu
    data = result.to_dict()
    data.pop("seconds")
    Path(args.results).write_text(json.dumps(data, sort_keys=True))
    _shared.report({"evaluate_s": seconds, "evaluate_cpu_s": cpu})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories (default: suites/)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--smoke", action="store_true", help="tiny version: a 3-case suite (seconds)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    _shared.header("bench_cache: all suites cold (empty store) vs warm (same store)", args.smoke)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        tmp_dir = Path(tmp)
        if args.smoke:
            (tmp_dir / "smoke.yaml").write_text(_shared.SMOKE_SUITE)
            args.suites = [str(tmp_dir / "smoke.yaml")]
        env = {"ADAPTER_HARNESS_STORE": str(tmp_dir / "runs.sqlite3")}
        runs = {}
        for name in ("cold", "warm"):
            results = tmp_dir / f"{name}.json"
            common = ["--suites", *args.suites, "--batch-size", str(args.batch_size), "--results", str(results)]
            runs[name] = _shared.run_child(Path(__file__), common, env=env)
            runs[name]["results"] = json.loads(results.read_text())
        from harness.store.result_cache import ResultCache

        stored = ResultCache(tmp_dir / "runs.sqlite3").count()

    cold, warm = runs["cold"], runs["warm"]
    columns = {"evaluate() wall s": "evaluate_s", "evaluate() CPU s": "evaluate_cpu_s",
               "process wall s": "process_s", "process CPU s": "process_cpu_s"}
    rows = [[name, *(f"{r[key]:.1f} ({100 * r[key] / cold[key]:.1f}%)" for key in columns.values()),
             f"{r['peak_rss_mb']:.0f}"] for name, r in runs.items()]
    print(_shared.table(["run", *(f"{c} (vs cold)" for c in columns), "peak RSS MiB"], rows))
    print(f"\nresults stored by the cold run: {stored}")
    same = cold["results"] == warm["results"]
    print(f"warm results identical to cold: {'yes' if same else 'NO'}")
    print(f"warm wall time: {100 * warm['evaluate_s'] / cold['evaluate_s']:.1f}% of cold (target <= 5%); "
          f"CPU time: {100 * warm['evaluate_cpu_s'] / cold['evaluate_cpu_s']:.1f}%")
    if not same:
        sys.exit("the warm run's results differ from the cold run's")


if __name__ == "__main__":
    main()
