"""How fast `make demo` could be at best: the training stages at this machine's fp32 matmul peak.

Issue 23 asks for the whole loop in 15 minutes on 2 cores. This computes a lower bound on the time
from what the shipped recipes train, not from a guess: the real tokens each training stage consumed
(TRL's ``num_tokens`` in the adapters' ``training.json``), the matmul FLOPs each of those tokens
needs at least, and this machine's measured fp32 ``torch.matmul`` throughput. The other stages
(set-up, the two evaluations, the report) are taken as measured by ``fresh_demo.sh``.

FLOPs per trained token, a lower bound (attention scores, norms, the optimizer and the LM head left
out: only answer tokens need logits, and how many there are is not recorded):

- SFT with LoRA: forward 2P, gradients through the frozen weights 2P (LoRA at the bottom layer
  needs them all the way down), LoRA forward, input and weight gradients 6L  ->  4P + 6L.
- DPO: the policy as SFT, plus the reference's forward (the frozen SFT adapter)  ->  6P + 8L.

P: the model's matrix weights below the LM head (the embedding, tied to the head, left out); L: the
LoRA weights.

    python benchmarks/demo_floor.py --sft runs/demo/sft --dpo runs/demo/dpo \\
        --fresh benchmarks/results/fresh-demo-exp24.json
    python benchmarks/demo_floor.py --smoke      # the committed record's inputs, a short matmul

Writes benchmarks/results/demo-floor.json (not with --smoke).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _shared

RESULTS = _shared.REPO / "benchmarks" / "results"
RECORD = RESULTS / "demo-floor.json"
HEAD = ("embed_tokens", "lm_head")  # the vocabulary matrices (tied in SmolLM2)
TRAINING_STAGES = ("2/5", "3/5")  # the fresh-demo stage names that train; the rest are taken as measured


def flops_per_token(params: int, lora_params: int, method: str) -> int:
    """Matmul FLOPs one trained token needs at least (module docstring)."""
    policy = 4 * params + 6 * lora_params
    if method == "sft":
        return policy
    if method == "dpo":
        return policy + 2 * params + 2 * lora_params
    raise ValueError(f"unknown method {method!r}: known: sft, dpo")


def stage_inputs(adapter: Path) -> dict:
    """What a trained adapter's ``training.json`` says it consumed, and its LoRA size."""
    info = json.loads((adapter / "training.json").read_text())
    return {"adapter": str(adapter), "method": info["method"], "tokens": int(info["metrics"]["num_tokens"]),
            "train_runtime_s": round(info["metrics"]["train_runtime"], 1), "lora_params": _shared.count_params(adapter)}


def model_params(adapter: Path) -> int:
    """The matrix weights below the LM head of the model ``adapter`` was trained on."""
    model_dir = json.loads((adapter / "training.json").read_text())["base_model"]["path"]
    return _shared.count_params(Path(model_dir), matrices_only=True, skip=HEAD)


def floor(stages: list[dict], params: int, gflops: float, other_s: float, budget_s: float) -> dict:
    rows, train_floor = [], 0.0
    for s in stages:
        flops = s["tokens"] * flops_per_token(params, s["lora_params"], s["method"])
        at_peak = flops / (gflops * 1e9)
        train_floor += at_peak
        rows.append({**s, "flops": flops, "floor_s": round(at_peak, 1),
                     "achieved_share_of_peak": round(at_peak / s["train_runtime_s"], 3)})
    total = other_s + train_floor
    left = budget_s - other_s
    return {"stages": rows, "model_params": params, "matmul_fp32_gflops": round(gflops, 1),
            "other_stages_s": other_s, "training_floor_s": round(train_floor, 1), "total_floor_s": round(total, 1),
            "budget_s": budget_s, "training_budget_s": round(left, 1),
            # how much of today's trained tokens fit the budget, even at the peak
            "token_share_that_fits_at_peak": round(max(left, 0) / train_floor, 3),
            # ... and at the speed the stages trained at
            "token_share_that_fits_as_measured": round(max(left, 0) / sum(s["train_runtime_s"] for s in stages), 3)}


def other_stages_s(record: dict) -> float:
    """Set-up plus every stage of a fresh-demo record that does not train."""
    return record["setup_s"] + sum(s for name, s in record["stages"].items() if not name.startswith(TRAINING_STAGES))


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sft", type=Path, help="the SFT adapter directory of a shipped-recipe run")
    p.add_argument("--dpo", type=Path, help="the DPO adapter directory of the same run")
    p.add_argument("--fresh", type=Path, default=RESULTS / "fresh-demo-exp24.json",
                   help="a fresh_demo.sh record: set-up and evaluation stage times (default: %(default)s)")
    p.add_argument("--budget", type=float, default=900.0, help="the target wall time in seconds (default: 900)")
    p.add_argument("--label", default="", help="a line on what was measured")
    p.add_argument("--smoke", action="store_true", help="the committed record's inputs and a 0.3 s matmul")
    return p


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    _shared.header("make demo: the training stages at the fp32 matmul peak", args.smoke)
    if args.smoke:
        saved = json.loads(RECORD.read_text())
        stages = [{k: s[k] for k in ("adapter", "method", "tokens", "train_runtime_s", "lora_params")} for s in saved["stages"]]
        params, other = saved["model_params"], saved["other_stages_s"]
    else:
        if not (args.sft and args.dpo):
            raise SystemExit("demo_floor: give --sft and --dpo (adapter directories with training.json), or --smoke")
        stages = [stage_inputs(args.sft), stage_inputs(args.dpo)]
        params = model_params(args.sft)
        other = other_stages_s(json.loads(args.fresh.read_text()))
    gflops = _shared.matmul_gflops(seconds=0.3 if args.smoke else 5.0)
    result = floor(stages, params, gflops, other, args.budget)
    rows = [[s["method"], f"{s['tokens']:,}", f"{s['flops'] / 1e12:.1f}", s["floor_s"], s["train_runtime_s"],
             f"{100 * s['achieved_share_of_peak']:.0f}%"] for s in result["stages"]]
    print(_shared.table(["stage", "real tokens", "TFLOP (lower bound)", "s at peak", "s measured", "share of peak"], rows))
    print(f"\nfp32 matmul peak {result['matmul_fp32_gflops']} GFLOP/s; model {params:,} matrix weights below the LM head")
    print(f"set-up, evaluations and report as measured: {other:.0f} s")
    print(f"lower bound on make demo: {result['total_floor_s']:.0f} s ({result['total_floor_s'] / 60:.1f} min) "
          f"against a budget of {args.budget:.0f} s; training may take {result['training_budget_s']:.0f} s, "
          f"{100 * result['token_share_that_fits_at_peak']:.0f}% of today's trained tokens at the peak, "
          f"{100 * result['token_share_that_fits_as_measured']:.0f}% at the speed measured")
    if not args.smoke:
        RESULTS.mkdir(parents=True, exist_ok=True)
        RECORD.write_text(json.dumps({"label": args.label, "date": time.strftime("%Y-%m-%d %H:%M"),
                                      "machine": _shared.machine(), "fresh_record": args.fresh.name, **result}, indent=1) + "\n")
        print(f"wrote {RECORD.relative_to(_shared.REPO)}")


if __name__ == "__main__":
    main()
