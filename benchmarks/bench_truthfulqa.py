"""TruthfulQA MC1/MC2 on the embedded model: the harness vs the ``lm_eval`` CLI, side by side.

Both evaluate the same questions — the evaluation split (odd rows of TruthfulQA.csv, 408
questions), or its first ``--limit N`` — with the same model (float32, CPU) and batch size:

* harness: ``suites/truthfulqa.yaml``'s multiple-choice cases, scored by its ``choice``
  check (log-likelihoods with shared prompt prefixes), in a fresh Python process;
* lm-eval: ``python -m lm_eval --model hf --include_path harness/lmeval/tasks --tasks
  harness_truthfulqa_mc1,harness_truthfulqa_mc2`` (the offline mirrors of lm-eval's
  truthfulqa_mc1/mc2), samples logged so every question can be compared.

Times are whole processes (imports, model load, task set-up and scoring): wall seconds and
CPU seconds (user + system, from the OS). On a machine shared with other jobs the wall time
depends on what else runs; CPU seconds do much less, so both are printed, with a speed
ratio for each. Then MC1/MC2 of each side and their agreement (absolute differences; share
of questions where both pick the same choice).

    python benchmarks/bench_truthfulqa.py              # all 408 questions (lm-eval takes long on CPU)
    python benchmarks/bench_truthfulqa.py --limit 40
    python benchmarks/bench_truthfulqa.py --smoke      # 3 questions
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _shared

MC_TASKS = ("harness_truthfulqa_mc1", "harness_truthfulqa_mc2")


def child(args: argparse.Namespace) -> None:
    """The harness side, in its own process: scores go to --scores, timings to the parent."""
    started = time.perf_counter()
    from harness.backends import load_backend
    from harness.lmeval import agreement

    backend = load_backend(None, batch_size=args.batch_size, progress=False)
    loaded = time.perf_counter()
    suite = agreement.truthfulqa_mc_suite(_shared.REPO / "suites" / "truthfulqa.yaml", args.limit)
    scores = agreement.harness_scores(suite, backend)
    done = time.perf_counter()
    Path(args.scores).write_text(json.dumps({"mc1": scores.mc1, "mc2": scores.mc2, "lls": scores.lls}))
    _shared.report({"questions": len(scores.lls), "load_s": loaded - started, "score_s": done - loaded})


def children_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_lm_eval(limit: int | None, batch_size: int, out_dir: Path) -> tuple[float, float, dict]:
    """Time the lm_eval CLI; return (wall s, CPU s, results dict with 'samples' read back)."""
    from harness.backends.hf.embedded import ensure_embedded_model
    from harness.lmeval import tasks_dir

    model = ensure_embedded_model(progress=False)
    command = [
        sys.executable, "-m", "lm_eval", "--model", "hf",
        "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu",
        "--batch_size", str(batch_size), "--include_path", str(tasks_dir()),
        "--tasks", ",".join(MC_TASKS), "--log_samples", "--output_path", str(out_dir),
    ]
    if limit is not None:
        command += ["--limit", str(limit)]
    print("$ " + " ".join(command), flush=True)
    started, cpu_before = time.perf_counter(), children_cpu_s()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=_shared.REPO)
    wall, cpu = time.perf_counter() - started, children_cpu_s() - cpu_before
    if proc.returncode != 0:
        sys.stdout.write(proc.stdout[-5000:])
        raise SystemExit(f"lm_eval failed (exit {proc.returncode})")
    results_file = max(glob.glob(str(out_dir / "**" / "results_*.json"), recursive=True), key=os.path.getmtime)
    results = json.loads(Path(results_file).read_text())
    results["samples"] = {}
    for task in MC_TASKS:
        sample_file = max(glob.glob(str(out_dir / "**" / f"samples_{task}_*.jsonl"), recursive=True))
        with open(sample_file, encoding="utf-8") as handle:
            results["samples"][task] = [json.loads(line) for line in handle if line.strip()]
    return wall, cpu, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="3 questions: checks the script, not the speed")
    parser.add_argument("--limit", type=int, default=None, help="first N questions of the evaluation split")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scores", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke and args.limit is None:
        args.limit = 3
    if args.child:
        child(args)
        return

    from harness.lmeval import agreement

    _shared.header("TruthfulQA MC1/MC2: harness vs lm_eval CLI (embedded SmolLM2-135M, float32, CPU)", args.smoke)
    with tempfile.TemporaryDirectory(prefix="bench-tqa-") as tmp:
        scores_file = Path(tmp) / "harness.json"
        child_args = ["--batch-size", str(args.batch_size), "--scores", str(scores_file)]
        if args.limit is not None:
            child_args += ["--limit", str(args.limit)]
        cpu_before = children_cpu_s()
        mine = _shared.run_child(Path(__file__), child_args)
        mine_cpu = children_cpu_s() - cpu_before
        raw = json.loads(scores_file.read_text())
        harness = agreement.MCScores({int(r): v for r, v in raw["lls"].items()}, raw["mc1"], raw["mc2"])
        print(f"harness: {mine['process_s']:.1f} s wall, {mine_cpu:.1f} s CPU ({mine['questions']} questions)",
              flush=True)
        lm_wall, lm_cpu, lm_results = run_lm_eval(args.limit, args.batch_size, Path(tmp) / "lm_eval")
        lm = agreement.lm_eval_scores(lm_results)
    print(f"lm_eval: {lm_wall:.1f} s wall, {lm_cpu:.1f} s CPU\n")
    print(_shared.table(
        ["", "wall s", "CPU s", "MC1", "MC2"],
        [["harness", f"{mine['process_s']:.1f}", f"{mine_cpu:.1f}", f"{harness.mc1:.4f}", f"{harness.mc2:.4f}"],
         ["lm_eval CLI", f"{lm_wall:.1f}", f"{lm_cpu:.1f}", f"{lm.mc1:.4f}", f"{lm.mc2:.4f}"]],
    ))
    print(f"\nharness is {_shared.ratio(lm_wall, mine['process_s'])} faster by wall time, "
          f"{_shared.ratio(lm_cpu, mine_cpu)} by CPU time "
          f"(harness: model load {mine['load_s']:.1f} s, scoring {mine['score_s']:.1f} s wall)")
    for line in agreement.compare(harness, lm).lines():
        print(line)


if __name__ == "__main__":
    main()
