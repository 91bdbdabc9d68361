"""Embedded model load time: from the converted cache vs straight from the GGUF.

The embedded SmolLM2-135M-Instruct ships as a Q4_1 GGUF; the harness converts it once into
a float32 safetensors directory (``harness prepare``) and loads that afterwards. Every
measurement is a fresh Python process (nothing warm in memory from an earlier one; the OS
file cache is warm for all, as on a developer machine). Timed inside the child, after
importing torch and transformers' Llama modules (timed separately: the same for every way
of loading, and paid by any use of a model):

* converted cache: ``load_backend(None)`` — marker check, weights, tokenizer, identity hashes;
* GGUF: tokenizer + model from the GGUF with transformers (dequantising on every start);
* first use: the one-time conversion into an empty cache directory (GGUF load + save).

Target: cache <= 3 s vs GGUF ~30 s.

    python benchmarks/bench_load.py            # 3 cache loads, 1 GGUF load, 1 conversion
    python benchmarks/bench_load.py --smoke    # 1 cache load only
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import _shared


def import_model_libraries() -> None:
    """Import what every way of loading needs. transformers imports its submodules lazily, on
    first use; without this the first load of any kind would pay several seconds of imports."""
    import torch  # noqa: F401
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: F401

    try:
        import transformers.conversion_mapping  # noqa: F401  (used by from_pretrained in transformers 5)
    except ImportError:
        pass


def child(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    import_model_libraries()
    import torch

    imported = time.perf_counter() - started
    started = time.perf_counter()
    if args.mode == "cache":
        from harness.backends import load_backend

        load_backend(None, progress=False)
    elif args.mode == "gguf":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from harness.backends.hf.embedded import find_gguf

        gguf = find_gguf()
        AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32).eval()
    else:  # "convert": ADAPTER_HARNESS_CACHE points at an empty directory
        from harness.backends.hf.embedded import ensure_embedded_model

        ensure_embedded_model(progress=False)
    _shared.report({"load_s": time.perf_counter() - started, "import_s": imported})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh-process loads from the cache (default 3)")
    parser.add_argument("--smoke", action="store_true", help="tiny version: one load from the cache (seconds)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["cache", "gguf", "convert"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    _shared.header("bench_load: embedded model load, converted cache vs GGUF", args.smoke)
    from harness.backends.hf.embedded import ensure_embedded_model

    ensure_embedded_model(progress=True)  # the cache must exist before timing loads from it
    script = Path(__file__)
    cache = [_shared.run_child(script, ["--mode", "cache"]) for _ in range(1 if args.smoke else args.repeats)]
    rows = [_row("converted cache (safetensors)", cache)]
    if not args.smoke:
        gguf = _shared.run_child(script, ["--mode", "gguf"])
        rows.append(_row("GGUF (dequantised at every load)", [gguf], base=cache))
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            convert = _shared.run_child(script, ["--mode", "convert"], env={"ADAPTER_HARNESS_CACHE": tmp})
        rows.append(_row("first use: GGUF -> cache conversion", [convert], base=cache))
    print(_shared.table(["load from", "runs", "load s (median)", "min s", "vs cache", "imports s (median)",
                         "process s (median)", "peak RSS MiB"], rows))
    print("\ntarget: converted cache <= 3 s, GGUF ~30 s")


def _row(name: str, runs: list[dict], base: list[dict] | None = None) -> list[object]:
    loads = [r["load_s"] for r in runs]
    median = statistics.median(loads)
    versus = _shared.ratio(median, statistics.median(r["load_s"] for r in base)) if base else "1.0x"
    return [name, len(runs), f"{median:.2f}", f"{min(loads):.2f}", versus,
            f"{statistics.median(r['import_s'] for r in runs):.2f}",
            f"{statistics.median(r['process_s'] for r in runs):.2f}", f"{max(r['peak_rss_mb'] for r in runs):.0f}"]


if __name__ == "__main__":
    main()
