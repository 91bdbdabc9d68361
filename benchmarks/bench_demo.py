"""Where `make demo`'s time and memory go: wall time, peak RSS and token counts per stage.

Runs `harness demo` in this process, from an empty run store (so an empty result cache: every
case really runs on the model) in a temporary work directory (nothing is published into
adapters/). Records per stage:

* wall seconds and peak RSS (sampled every 50 ms: this process's VmRSS plus its children's, as
  the base-model stage runs in a child; the process's own high-water mark is recorded too);
* training stages: optimizer steps, real tokens (attention-mask ones) against padded tokens
  (tensor sizes) fed to the model, trained tokens/s, and the achieved GFLOP/s against this
  machine's measured fp32 ``torch.matmul`` ceiling (model FLOPs per trained token taken as
  4 x parameters: LoRA's forward plus the backward through the frozen weights);
* evaluation stages: per suite, the generations and generated tokens, and the log-likelihood
  requests (from the stored results).

    python benchmarks/bench_demo.py --label before        # the whole demo (40+ min here)
    python benchmarks/bench_demo.py --smoke               # 2 tiny suites, 2 training steps each

Writes benchmarks/results/demo-<label>.json (``--out`` to choose) and prints the stage table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import _shared

RESULTS = _shared.REPO / "benchmarks" / "results"


class RssSampler(threading.Thread):
    """Peak resident memory per stage, sampled every ``interval`` s: VmRSS of this process plus its
    children (the demo evaluates the base model in a child process), so a stage is charged for all
    the memory it holds at once."""

    def __init__(self, interval: float = 0.05):
        super().__init__(daemon=True)
        self.interval, self.peak, self._stop = interval, 0.0, threading.Event()

    @staticmethod
    def now_mb() -> float:
        total_kb, pids = 0, [os.getpid()]
        while pids:
            pid = pids.pop()
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total_kb += int(line.split()[1])
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(child) for child in (task / "children").read_text().split()]
            except (OSError, ValueError):  # gone between two reads
                continue
        return total_kb / 1024 if total_kb else _shared.peak_rss_mb()

    def reset(self) -> float:
        self.peak = self.now_mb()
        return self.peak

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.now_mb())

    def stop(self) -> None:
        self._stop.set()


class TokenCounter:
    """Real and padded tokens of every training step (wraps ``Trainer.training_step``)."""

    def __init__(self) -> None:
        self.steps = self.real = self.padded = 0

    def count(self, inputs: dict[str, Any]) -> None:
        self.steps += 1
        for key, value in inputs.items():
            if not key.endswith("input_ids") or not hasattr(value, "numel"):
                continue
            self.padded += value.numel()
            mask = inputs.get(key.replace("input_ids", "attention_mask"))
            self.real += int(mask.sum()) if mask is not None else value.numel()

    def snapshot(self) -> tuple[int, int, int]:
        return self.steps, self.real, self.padded


def _count_tokens_in(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, tuple[int, int, int]]:
    """Runs in the stage's own process: ``fn``, with every training step's tokens counted."""
    from transformers import Trainer

    counter, step = TokenCounter(), Trainer.training_step

    def counted_step(self, model, inputs, *a, **k):
        counter.count(inputs)
        return step(self, model, inputs, *a, **k)

    Trainer.training_step = counted_step
    return fn(*args, **kwargs), counter.snapshot()


def instrument(sampler: RssSampler, tokens: TokenCounter, stages: list[dict[str, Any]]) -> None:
    """Wrap the demo's stage runner and (in each stage's process) the trainer's step, so each stage
    records its figures."""
    from harness.cli import demo

    fresh = demo.in_fresh_process

    def counted(fn, *args, **kwargs):
        result, (steps, real, padded) = fresh(_count_tokens_in, fn, *args, **kwargs)
        tokens.steps, tokens.real, tokens.padded = tokens.steps + steps, tokens.real + real, tokens.padded + padded
        return result

    demo.in_fresh_process = counted
    run = demo.Stages.run

    def recorded(self, name, fn, *args, **kwargs):
        before = tokens.snapshot()
        rss_start = sampler.reset()
        start = time.perf_counter()
        result = None
        try:
            result = run(self, name, fn, *args, **kwargs)
            return result
        finally:
            after = tokens.snapshot()
            stages.append({"stage": name, "wall_s": round(time.perf_counter() - start, 1),
                           "rss_start_mb": round(rss_start), "peak_rss_mb": round(max(sampler.peak, sampler.now_mb())),
                           "train_steps": after[0] - before[0], "real_tokens": after[1] - before[1],
                           "padded_tokens": after[2] - before[2]})
            if hasattr(result, "accepted"):  # the gate's decision, with what failed
                stages[-1]["verdict"] = "ACCEPTED" if result.accepted else "REJECTED"
                stages[-1]["failures"] = list(getattr(result, "failures", []))

    demo.Stages.run = recorded


def eval_counts(results_json: Path, tokenizer: Any) -> dict[str, dict[str, int]]:
    """Per suite: generations, generated tokens and cases scored without generating (log-likelihoods)."""
    data = json.loads(results_json.read_text())
    out = {}
    for suite in data["suites"].values():
        gens = toks = scored = 0
        cases = suite["cases"].values() if isinstance(suite["cases"], dict) else suite["cases"]
        for case in cases:
            outputs = case.get("samples") or ([case["output"]] if case.get("output") is not None else [])
            gens += len(outputs)
            toks += sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outputs)
            scored += int(case.get("output") is None)
        out[suite["name"]] = {"generations": gens, "generated_tokens": toks, "loglikelihood_cases": scored}
    return out


def smoke_setup(root: Path) -> list[str]:
    """Two tiny suites and 2-step recipes: the script's plumbing, in about a minute."""
    suites = root / "suites"
    suites.mkdir()
    (suites / "smoke.yaml").write_text(_shared.SMOKE_SUITE)
    sft = (_shared.REPO / "training/recipes/sft.yaml").read_text()
    sft = sft.replace("epochs: 3", "epochs: 1\n  max_steps: 2").replace("../data/", f"{_shared.REPO}/training/data/")
    dpo = (_shared.REPO / "training/recipes/demo_dpo.yaml").read_text()
    dpo = dpo.replace("epochs: 1", "epochs: 1\n  max_steps: 2").replace("../data/", f"{_shared.REPO}/training/data/")
    (root / "sft.yaml").write_text(sft)
    (root / "dpo.yaml").write_text(dpo)
    return ["--suites", str(suites), "--sft-recipe", str(root / "sft.yaml"), "--dpo-recipe", str(root / "dpo.yaml")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="run", help="names the record: benchmarks/results/demo-LABEL.json")
    parser.add_argument("--out", default=None, help="where to write the JSON record")
    parser.add_argument("--smoke", action="store_true", help="tiny suites and 2 training steps (checks the script)")
    parser.add_argument("--sft-recipe", default="training/recipes/sft.yaml", help="the SFT stage's recipe")
    parser.add_argument("--dpo-recipe", default="training/recipes/demo_dpo.yaml", help="the DPO stage's recipe")
    args = parser.parse_args()
    _shared.header("make demo, stage by stage", args.smoke)

    root = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    os.environ["ADAPTER_HARNESS_STORE"] = str(root / "runs.sqlite3")  # empty: nothing answered from a cache
    extra = smoke_setup(root) if args.smoke else ["--suites", str(_shared.REPO / "suites"),
                                                  "--sft-recipe", str((_shared.REPO / args.sft_recipe).resolve()),
                                                  "--dpo-recipe", str((_shared.REPO / args.dpo_recipe).resolve())]
    ceiling = _shared.matmul_gflops(seconds=0.5 if args.smoke else 3.0)
    sampler, tokens, stages = RssSampler(), TokenCounter(), []
    sampler.start()
    instrument(sampler, tokens, stages)

    from harness.cli import main as harness_main

    os.chdir(root)  # reports/ lands in the temp dir, not in the checkout's reports/
    started = time.perf_counter()
    code = harness_main(["demo", "--workdir", str(root / "work"), "--registry", str(root / "adapters"), *extra])
    total = time.perf_counter() - started
    sampler.stop()

    from transformers import AutoTokenizer

    from harness.backends.hf.embedded import ensure_embedded_model

    model_dir = ensure_embedded_model(progress=False)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    params = _shared.count_params(model_dir)
    for stage in stages:
        if stage["train_steps"]:
            tps = stage["real_tokens"] / stage["wall_s"]
            stage["trained_tokens_per_s"] = round(tps, 1)
            stage["padding_share"] = round(1 - stage["real_tokens"] / max(stage["padded_tokens"], 1), 3)
            stage["gflops_per_s"] = round(4 * params * tps / 1e9, 1)
            stage["share_of_ceiling"] = round(4 * params * tps / 1e9 / ceiling, 3)
    work = root / "work"
    record = {
        "label": args.label, "smoke": args.smoke, "machine": _shared.machine(), "date": time.strftime("%Y-%m-%d %H:%M"),
        "recipes": [args.sft_recipe, args.dpo_recipe], "exit_code": code, "total_wall_s": round(total, 1), "peak_rss_mb_process": round(_shared.peak_rss_mb()),
        # the largest stage process's own high-water mark (what /usr/bin/time -v reports for the whole run)
        "peak_rss_mb_largest_child": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "peak_rss_mb_sampled": max((s["peak_rss_mb"] for s in stages), default=0),
        "matmul_fp32_gflops": round(ceiling, 1), "model_params": params, "stages": stages,
        "eval": {name: eval_counts(work / f, tokenizer) for name, f in
                 (("base", "base-results.json"), ("adapter", "adapter-results.json")) if (work / f).exists()},
    }
    out = Path(args.out) if args.out else RESULTS / f"demo-{args.label}{'-smoke' if args.smoke else ''}.json"
    if not args.smoke or args.out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(record, indent=2) + "\n")
    headers = ["stage", "wall s", "peak RSS MB", "steps", "real tok", "padded tok", "tok/s", "% ceiling"]
    rows = [[s["stage"], s["wall_s"], s["peak_rss_mb"], s["train_steps"] or "", s["real_tokens"] or "",
             s["padded_tokens"] or "", s.get("trained_tokens_per_s", ""),
             f"{100 * s['share_of_ceiling']:.1f}" if "share_of_ceiling" in s else ""] for s in stages]
    print("\n" + _shared.table(headers, rows))
    print(f"\ntotal {total:.0f} s, peak RSS {record['peak_rss_mb_sampled']} MB (this process and "
          f"its stage process, sampled; this one alone {record['peak_rss_mb_process']} MB), "
          f"fp32 matmul ceiling {ceiling:.0f} GFLOP/s")
    if not args.smoke or args.out:
        print(f"record: {out}")


if __name__ == "__main__":
    main()
