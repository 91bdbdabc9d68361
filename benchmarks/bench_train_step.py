"""Training levers, one at a time: seconds per trained token and peak memory of a recipe's first steps.

Each variant is the recipe with a few fields changed (``--set train.batch_size=4`` style), trained
for ``--steps`` optimizer steps by ``harness train`` in a fresh child process. Reported per variant:
the median step time (the training run's own step timer, the first step excluded as warm-up), the
tokens TRL counted, seconds per 1,000 trained tokens, and the child's peak RSS (``getrusage``).

    python benchmarks/bench_train_step.py                                  # the built-in lever list
    python benchmarks/bench_train_step.py --variant "b4x2: train.batch_size=4 train.grad_accum=2"
    python benchmarks/bench_train_step.py --smoke                          # 2 steps, 2 variants

Writes benchmarks/results/train-levers-<recipe>.json (not with --smoke).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import _shared
import yaml

LEVERS = [
    "as shipped:",
    "batch 4 x accum 2: train.batch_size=4 train.grad_accum=2",
    "batch 2 x accum 4: train.batch_size=2 train.grad_accum=4",
    "lora dropout 0: lora.dropout=0.0",
    "lora r 32: lora.r=32 lora.alpha=64",
    "activation checkpointing: train.gradient_checkpointing=true",
]


def variant_recipe(base: Path, assignments: list[str], steps: int, out: Path) -> Path:
    data = yaml.safe_load(base.read_text())
    data["data"] = [str((base.parent / d).resolve()) if isinstance(d, str) else d for d in data["data"]]
    data.pop("init_adapter", None)
    data.setdefault("train", {}).update(max_steps=steps, save_steps=10_000, logging_steps=1)
    for item in assignments:
        key, value = item.split("=", 1)
        section, field = key.split(".")
        data.setdefault(section, {})[field] = yaml.safe_load(value)
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


# `harness train ARGS` in a child that reports its own peak RSS when it exits.
_CHILD = ("import atexit, resource, runpy, sys; "
          "atexit.register(lambda: print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
          "file=sys.stderr)); sys.argv = ['harness', *sys.argv[1:]]; runpy.run_module('harness', run_name='__main__')")


def run_variant(recipe: Path, work: Path, steps: int) -> dict:
    # --verbose: TRL's log lines carry the token count (quiet mode shows only the loss on the step bar).
    proc = subprocess.run([sys.executable, "-c", _CHILD, "--verbose", "train", str(recipe), "--out", str(work / "adapter"),
                           "--overwrite"], capture_output=True, text=True, cwd=_shared.REPO)
    if proc.returncode:
        raise SystemExit(f"training failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    text = proc.stdout + proc.stderr
    median = float(re.search(r"([0-9.]+) s/step", text).group(1))
    tokens = [int(float(m)) for m in re.findall(r"'num_tokens': '([0-9.e+]+)'", text)]
    per_step = tokens[-1] / steps if tokens else None  # TRL's count of real (unpadded) tokens, cumulative
    peak = int(re.search(r"PEAK_RSS_KB (\d+)", text).group(1))
    return {"median_s_per_step": median, "tokens_per_step": round(per_step) if per_step else None,
            "s_per_1k_tokens": round(1000 * median / per_step, 2) if per_step else None,
            "peak_rss_mb": round(peak / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="training/recipes/sft.yaml")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--variant", action="append", default=None, help='"label: section.field=value ..."')
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    _shared.header(f"training levers on {args.recipe}", args.smoke)
    base = (_shared.REPO / args.recipe).resolve()
    variants = args.variant or (LEVERS[:2] if args.smoke else LEVERS)
    steps = 2 if args.smoke else args.steps
    results = []
    for spec in variants:
        label, _, rest = spec.partition(":")
        with tempfile.TemporaryDirectory() as tmp:
            recipe = variant_recipe(base, rest.split(), steps, Path(tmp) / "recipe.yaml")
            results.append({"variant": label.strip(), "set": rest.split(), **run_variant(recipe, Path(tmp), steps)})
        print(f"  {label.strip()}: {results[-1]}", flush=True)
    rows = [[r["variant"], r["median_s_per_step"], r["tokens_per_step"], r["s_per_1k_tokens"], r["peak_rss_mb"]]
            for r in results]
    print("\n" + _shared.table(["variant", "s/step (median)", "tokens/step", "s per 1k tokens", "peak RSS MB"], rows))
    if not args.smoke:
        out = _shared.REPO / "benchmarks" / "results" / f"train-levers-{base.stem}.json"
        out.write_text(json.dumps({"recipe": args.recipe, "steps": steps, "machine": _shared.machine(),
                                   "results": results}, indent=2) + "\n")
        print(f"record: {out}")


if __name__ == "__main__":
    main()
