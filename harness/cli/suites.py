"""``harness run``, ``validate`` and ``prepare``: suites on a model, suite files alone, the embedded model."""

from __future__ import annotations

import argparse
import sys

from harness.cli.store import store_option
from harness.errors import HarnessError
from harness.loader import find_suites, load_suites


def cmd_run(args: argparse.Namespace) -> int:
    from harness.evaluate import baseline_spec, evaluate
    from harness.metrics import split_key
    from harness.table import case_report, run_table

    suites = load_suites(args.suites)
    candidate = model_spec(args)
    base = baseline_spec(args.baseline, candidate) if args.baseline else None
    run, _ = evaluate(suites, candidate, base, batch_size=args.batch_size, progress=not args.quiet,
                      no_cache=args.no_cache, allow_missing=args.allow_missing)
    from harness.backends import shard

    if args.results and shard.is_main():  # one writer under a data-parallel launch
        run.write_json(args.results)
    print(f"\nmodel: {run.identity.label()}   ({run.seconds:.0f} s)")
    print(run_table(run))
    if args.details:
        for suite in run.suites.values():
            for case in suite.cases.values():
                if not case.passed:
                    print(f"\n{suite.path}:{case.line}: {case.case_id} failed\n{case_report(case)}")
    failed = [(s, t) for s in run.suites.values() for t in s.thresholds if not t.holds]
    if failed:  # which cases to look at, under each threshold that fails
        print("\nfailing thresholds:")
        for s, t in failed:
            metric, tag = split_key(t.key)
            why = "not evaluated" if t.value is None and s.not_evaluated else \
                f"failing cases: {s.failing_cases(tag, metric=metric, higher_is_better=t.higher_is_better) or 'none'}"
            print(f"  {s.name} {t.rule}: {why}")
    missing = [(s.name, t) for s in run.suites.values() for t in s.thresholds if t.decision.startswith("not evaluated")]
    if missing:  # never a score: said apart, with how to accept it knowingly
        print("\nnot evaluated (the gate fails them unless --allow-missing SUITE:METRIC names them):")
        for name, t in missing:
            print(f"  {name}:{t.key}: {t.decision}")
    decided = [(s.name, t) for s in run.suites.values() for t in s.thresholds
               if t.decision and not t.decision.startswith("not evaluated")]
    if decided:  # how each regression check was decided, with the numbers
        print("\nregression decisions:")
        for name, t in decided:
            print(f"  {name} {t.key}: {t.decision}")
    print(f"\nverdict: {'PASS' if run.passed else 'FAIL'}")
    if run.store_error:  # the evidence is lost unless the user keeps this output: never a silent success
        print(f"error: the run was evaluated but not stored ({run.store_error}); 'harness report' cannot use it. "
              "Set ADAPTER_HARNESS_STORE=off to run without a store", file=sys.stderr)
        return 3
    return 0 if run.passed else 1


def cmd_validate(args: argparse.Namespace) -> int:
    """Every file checked and every error listed (grouped by file), then one summary line."""
    from harness.loader import load_suite
    from harness.metrics import power_rows

    weak, errors, bad = 0, 0, 0
    files = find_suites(args.suites)
    for path in files:
        try:
            suite = load_suite(path)
        except HarnessError as exc:
            found = str(exc).splitlines()
            errors, bad = errors + len(found), bad + 1
            print(f"{path}: {len(found)} error{'s' if len(found) != 1 else ''}")
            print("\n".join(f"  {line}" for line in found))
            continue
        note = f"skipped: {suite.skip_reason}" if suite.skip_reason else f"{len(suite.cases)} cases, {len(suite.thresholds)} thresholds"
        print(f"{suite.path}: ok ({note})")
        if suite.skip_reason:
            continue
        # Power, up front: the smallest drop each threshold's regression rule can see.
        for row in power_rows(suite):
            print(f"  {'' if row.checkable else 'warning: '}{row.describe()}")
            weak += not row.checkable
    if weak:
        print(f"{weak} regression allowance(s) below what their suite can detect (see the warnings)")
    print(f"{len(files)} file{'s' if len(files) != 1 else ''}: {len(files) - bad} ok, {bad} with errors, "
          f"{errors} error{'s' if errors != 1 else ''}")
    return 1 if errors else 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from harness.backends.hf.embedded import ensure_embedded_model

    print(f"embedded model ready at {ensure_embedded_model()}")
    return 0


def add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, help="'embedded' (default), an HF hub id or a local model directory; "
                   "with --backend openai-compatible, the model name the server serves")
    p.add_argument("--adapter", default=None, help="PEFT LoRA adapter directory (a served adapter's name with a server)")
    p.add_argument("--batch-size", type=int, default=32)
    add_server_options(p)


def add_server_options(p: argparse.ArgumentParser) -> None:
    server = p.add_argument_group("serving", "evaluate a model behind an OpenAI-compatible server (vLLM, SGLang, TGI, "
                                  "llama.cpp, transformers serve); API key from $ADAPTER_HARNESS_API_KEY")
    server.add_argument("--backend", choices=["hf", "openai-compatible", "vllm"], default="hf",
                        help="hf: transformers in this process (default); openai-compatible: a server; "
                             "vllm: vLLM in this process (a GPU, pip install 'adapter-harness[vllm]')")
    server.add_argument("--base-url", default=None, help="the server's API root, e.g. http://127.0.0.1:8000/v1")
    server.add_argument("--fingerprint", default=None,
                        help="what the served weights are (e.g. a hash or release tag): recorded with the run "
                             "and part of the result cache's key")
    server.add_argument("--max-concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    server.add_argument("--timeout", type=float, default=120.0, help="seconds per request before retrying (default 120)")


def server_options(args: argparse.Namespace):
    """The ServerOptions the options name (None: in process); the adapters are not needed for that."""
    return model_spec(args, adapter=None).server


def model_spec(args: argparse.Namespace, *, adapter: str | None = ...):  # type: ignore[assignment]
    from harness.evaluate import ModelSpec

    return ModelSpec.from_options(args.model, args.adapter if adapter is ... else adapter, backend=args.backend,
                                  base_url=args.base_url, fingerprint=args.fingerprint,
                                  max_concurrency=args.max_concurrency, timeout=args.timeout)


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run suites on a model and print metrics and verdicts")
    run.add_argument("suites", nargs="*", default=["suites"], help="suite files or directories (default: suites/)")
    add_model_options(run)
    run.add_argument("--baseline", default=None, help="'base', an adapter directory or a model: check regressions against it")
    run.add_argument("--results", default=None, help="write results JSON here")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    run.add_argument("--details", action="store_true",
                     help="print every failing case in full: prompt, output and each check's verdict")
    run.add_argument("--allow-missing", nargs="+", default=[], metavar="SUITE[:METRIC]",
                     help="accept these as not evaluated: a metric the backend cannot score (SUITE:METRIC, e.g. "
                          "truthfulqa:mc1 on a server without prompt log-probabilities)")
    run.add_argument("--no-cache", action="store_true",
                     help="run every case on the model instead of reusing results stored by an identical earlier run")
    store_option(run)
    run.set_defaults(func=cmd_run)

    val = sub.add_parser("validate", help="check suite files without loading a model")
    val.add_argument("suites", nargs="*", default=["suites"])
    val.set_defaults(func=cmd_validate)

    prep = sub.add_parser("prepare", help="convert the embedded model once into the cache (GGUF → safetensors)")
    prep.set_defaults(func=cmd_prepare)

