"""``harness demo``: the whole release loop on the embedded model, start to finish.

suites on the base model → LoRA SFT → DPO on top → gate (hold-out, applied-check, every suite on
base and candidate, verdict, publish) → before/after HTML report. Each stage reuses what the one
before stored: the gate's baseline run is answered from the result cache that the first stage
filled, so the base model is evaluated once.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.device import in_fresh_process
from harness.errors import HarnessError

SFT_RECIPE = "training/recipes/sft.yaml"
DPO_RECIPE = "training/recipes/demo_dpo.yaml"
DEMO_BATCH = 128  # evaluation batch size on the embedded model; see --batch-size
OTHER_BATCH = 32  # on any other base model: the backend's default (128 rows of a larger model's KV cache may not fit)


@dataclass
class Stages:
    """Runs each stage in a process of its own and keeps its wall time, printed at the end so a slow
    stage is visible.

    A fresh process per stage (``harness.device.in_fresh_process``, which says why) makes each
    stage's memory peak its own. Stages hand their results on through the run store and the adapter
    directories; their return values come back pickled. Each process start costs a few seconds of
    imports.
    """

    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn, *args, **kwargs):
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            return in_fresh_process(fn, *args, **kwargs)
        finally:
            self.seconds[name] = time.perf_counter() - start

    def table(self) -> str:
        from harness.table import render

        rows = [[name, f"{s:.0f} s"] for name, s in self.seconds.items()]
        rows.append(["total", f"{sum(self.seconds.values()):.0f} s"])
        return render(["stage", "wall time"], rows)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="the whole loop on the embedded model: base eval, SFT, DPO, gate, report",
        description="Evaluate the base model, train the demo LoRA adapter (SFT then DPO), gate it against "
        "the base model and write the before/after report. Everything stays under --workdir "
        "except the accepted adapter (published to --registry).",
    )
    p.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories (default: suites/)")
    p.add_argument("--workdir", default="runs/demo", help="where adapters, results and the report go (default: runs/demo)")
    p.add_argument("--registry", default="adapters", help="registry for the accepted adapter (default: adapters/)")
    p.add_argument("--sft-recipe", default=SFT_RECIPE)
    p.add_argument("--dpo-recipe", default=DPO_RECIPE)
    p.add_argument("--retrain", action="store_true", help="train again even if the workdir holds finished adapters")
    # 128: every finance, politeness and refusal prompt in one generation batch, TruthfulQA's 408 in 4. On the
    # embedded model all four suites ran in 156 s instead of 191 s at the backend's 32, every output identical,
    # peak 2.2 instead of 1.5 GiB (the gate's process, 3.1 GiB, is now the demo's largest; docs/performance.md).
    p.add_argument("--batch-size", type=int, default=None,
                   help=f"evaluation batch size (default: {DEMO_BATCH} on the embedded 135M model, {OTHER_BATCH} "
                   "on the base model another recipe names)")
    p.add_argument("--strict", action="store_true", help="exit 1 when the gate rejects the adapter (default: 0 once "
                   "the loop has run; a rejection is a result the demo reports, not an error)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.loader import load_suites
    from harness.table import run_table
    from harness.training.recipes import load_recipe

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    stages = Stages()

    suites = []
    for suite in load_suites(args.suites):
        if suite.skip_reason:  # the gate refuses skipped suites; the demo says so and goes on without
            print(f"warning: leaving out {suite.path}: {suite.skip_reason}", file=sys.stderr)
        else:
            suites.append(suite)
    sft_recipe, dpo_recipe = available_data(load_recipe(args.sft_recipe)), available_data(load_recipe(args.dpo_recipe))
    model = base_model_of(sft_recipe, dpo_recipe)
    batch_size = args.batch_size or default_batch_size(model)
    base = stages.run("1/5 suites on the base model", evaluate_base,
                      [str(s.path) for s in suites], batch_size, model)
    base.write_json(work / "base-results.json")
    print(run_table(base))

    sft_dir, dpo_dir = work / "sft", work / "dpo"
    if args.retrain:
        for d in (sft_dir, dpo_dir):
            shutil.rmtree(d, ignore_errors=True)
    if not _finished(sft_dir):
        stages.run("2/5 SFT (LoRA)", train_adapter, sft_recipe, sft_dir, overwrite=True)
    else:
        print(f"\n=== 2/5 SFT: reusing {sft_dir} (pass --retrain to train again) ===")
    if not _finished(dpo_dir):
        stages.run("3/5 DPO on the SFT adapter", train_adapter, dpo_recipe, dpo_dir,
                   init_adapter=sft_dir, overwrite=True)
    else:
        print(f"\n=== 3/5 DPO: reusing {dpo_dir} (pass --retrain to train again) ===")

    gate = stages.run("4/5 gate: adapter vs base", gate_adapter, str(dpo_dir), baseline="base",
                      suites=[str(s.path) for s in suites], training=_data_files(sft_recipe, dpo_recipe),
                      registry_dir=args.registry, batch_size=batch_size, model=model)
    gate.candidate.write_json(work / "adapter-results.json")
    report = stages.run("5/5 before/after report", _report, work, gate.candidate.stored_id)

    print("\n" + gate.table)
    print("\n" + stages.table())
    if gate.accepted:
        print(f"\nverdict: ACCEPTED -> {gate.published}")
    else:
        print("\nverdict: REJECTED (nothing written to the registry)")
        for line in gate.failures:
            print(f"  {line}")
    print(f"report:  {report.resolve()}")
    return 0 if gate.accepted or not args.strict else 1


def base_model_of(sft: Any, dpo: Any) -> str | None:
    """The base model both recipes train on (None: the embedded one): stage 1 and the gate evaluate it."""
    if sft.base_model != dpo.base_model:
        raise HarnessError(f"the SFT recipe trains on base_model {sft.base_model!r} and the DPO recipe on "
                           f"{dpo.base_model!r}; the DPO stage continues the SFT adapter, so they must be the same")
    return None if sft.base_model == "embedded" else sft.base_model


def default_batch_size(model: str | None) -> int:
    return DEMO_BATCH if model is None else OTHER_BATCH


def evaluate_base(suite_paths: list[str], batch_size: int, model: str | None = None) -> Any:
    """Stage 1: the suites on the base model, stored in the run store (the gate's baseline)."""
    from harness.evaluate import ModelSpec, evaluate
    from harness.loader import load_suites

    return evaluate(load_suites(suite_paths), ModelSpec(model), batch_size=batch_size)[0]


def train_adapter(recipe: Any, out: Path, **kwargs: Any) -> None:
    """Stages 2 and 3: train the recipe's adapter into ``out`` (the next stage reads it from there)."""
    from harness.training.run import train

    train(recipe, out, **kwargs)


def gate_adapter(adapter: str, **kwargs: Any) -> Any:
    """Stage 4: the gate's decision for the DPO adapter (``harness.gate.gate.run_gate``)."""
    from harness.gate.gate import run_gate

    return run_gate(adapter, **kwargs)


def available_data(recipe: Any) -> Any:
    """The recipe less the data sources whose rows cannot be had here (TruthfulQA with no local copy
    and no hub), each named in a warning: the demo trains on the rest, as it leaves out a suite it
    cannot run. ``harness train`` keeps the strict behaviour and stops with the source's error."""
    from harness.sources.truthfulqa_pairs import TruthfulQATrainParams, load_truthfulqa_train
    from harness.training_data import DataError

    kept = []
    for item, (shown, source, params) in zip(recipe.data, recipe.data_items(), strict=True):
        if source:
            try:
                load_truthfulqa_train(TruthfulQATrainParams.model_validate(params), recipe.base_dir)
            except DataError as exc:
                print(f"warning: the {recipe.method.upper()} stage leaves out {shown}: {exc}", file=sys.stderr)
                continue
        kept.append(item)
    if len(kept) == len(recipe.data):
        return recipe
    trimmed = recipe.model_copy(update={"data": kept})
    trimmed._path = recipe._path
    return trimmed


def _data_files(*recipes: Any) -> list[str]:
    """The files both stages trained on, for the gate's hold-out check (sources such as TruthfulQA's
    training half are kept apart from the suites by construction and checked by the gate itself)."""
    return list(dict.fromkeys(str(r.resolve(shown)) for r in recipes for shown, source, _ in r.data_items()
                              if not source))


def _finished(adapter_dir: Path) -> bool:
    """A finished training run: the adapter and its training record are both there."""
    return (adapter_dir / "adapter_model.safetensors").is_file() and (adapter_dir / "training.json").is_file()


def _report(work: Path, run_id: int | None) -> Path:
    """The report of the gate's runs, rebuilt from the run store (as `harness report` would)."""
    from harness.report import write_report
    from harness.store import RunStore, store_disabled

    if store_disabled():
        raise HarnessError("the run store is switched off (ADAPTER_HARNESS_STORE=off): the demo report needs it")
    if run_id is None:
        raise HarnessError("the gate's run was not saved to the run store (see the warning above): no report")
    store = RunStore()
    cand = store.info(run_id)  # by id, not 'latest': another process may have saved a run meanwhile
    base = store.info(cand.baseline_run) if cand.baseline_run is not None else None
    out = Path("reports") / "demo.html"  # the top-level home of generated reports
    write_report(out, store.load(cand.id), store.load(base.id) if base else None, summary=out.with_suffix(".md"),
                 candidate_info=cand, baseline_info=base)
    print(f"rebuild it any time with: harness report --candidate {cand.id}"
          f"{f' --baseline {base.id}' if base else ''} --out {out}", file=sys.stderr)
    return out
