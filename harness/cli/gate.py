"""CLI: ``harness gate`` and ``harness holdout``."""

from __future__ import annotations

import argparse
import sys

from harness.cli.store import store_option
from harness.cli.suites import add_server_options, server_options


def register(subparsers: argparse._SubParsersAction) -> None:
    gate = subparsers.add_parser("gate", help="accept an adapter into adapters/ only if every suite passes")
    gate.add_argument("adapters", nargs="*", metavar="ADAPTER",
                      help="PEFT LoRA adapter directories; several are compared with one baseline, evaluated once "
                           "(regression decisions Holm-corrected for their number) and ranked")
    gate.add_argument("--adapter", action="append", default=[], help="an adapter directory (same as a positional one)")
    gate.add_argument("--baseline", choices=["base", "previous"], default="base",
                      help="compare with the base model (default) or the last accepted adapter of this name")
    gate.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories (default: suites/)")
    gate.add_argument("--name", default=None, help="registry name (default: the training run's name)")
    gate.add_argument("--registry", default="adapters", help="registry directory (default: adapters/)")
    gate.add_argument("--model", default=None, help="base model: 'embedded' (default), a hub id or a local directory")
    gate.add_argument("--training", nargs="+", default=["training/data"], help="training data for the hold-out check")
    gate.add_argument("--holdout-threshold", type=float, default=None,
                      help="near-duplicate cosine threshold (default 0.9)")
    gate.add_argument("--allow-missing", nargs="+", default=[], metavar="SUITE[:METRIC]",
                      help="suites (name or path) that may be not evaluated (e.g. data missing); others must run")
    gate.add_argument("--batch-size", type=int, default=32)
    gate.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    gate.add_argument("--no-cache", action="store_true",
                      help="run every case on the model instead of reusing results stored by an identical earlier run")
    add_server_options(gate)  # ADAPTER and --model are then names the server serves
    store_option(gate)
    gate.set_defaults(func=cmd_gate)

    hold = subparsers.add_parser("holdout", help="check that no training prompt leaks into the suites")
    hold.add_argument("--training", nargs="+", default=["training/data"], help="training JSONL files or directories")
    hold.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories")
    hold.add_argument("--threshold", type=float, default=None, help="near-duplicate cosine threshold (default 0.9)")
    hold.set_defaults(func=cmd_holdout)


def cmd_holdout(args: argparse.Namespace) -> int:
    from harness.gate.holdout import DEFAULT_THRESHOLD, check_holdout

    report = check_holdout(args.training, args.suites, threshold=args.threshold or DEFAULT_THRESHOLD)
    print(report.summary(limit=100))
    print("hold-out: PASS" if report.passed else "hold-out: FAIL")
    return 0 if report.passed else 1


def cmd_gate(args: argparse.Namespace) -> int:
    from harness.errors import HarnessError
    from harness.gate.candidates import ranking
    from harness.gate.gate import run_gate_many
    from harness.table import render

    adapters = [*args.adapters, *args.adapter]
    if not adapters:
        raise HarnessError("harness gate: give the adapter directory to gate (harness gate ADAPTER [ADAPTER ...])")
    results = run_gate_many(
        adapters, model=args.model, baseline=args.baseline, suites=args.suites, name=args.name,
        registry_dir=args.registry, training=args.training, holdout_threshold=args.holdout_threshold,
        batch_size=args.batch_size, progress=not args.quiet, no_cache=args.no_cache,
        allow_missing=args.allow_missing, server=server_options(args),
    )
    for result in results:
        print(f"\ncandidate: {result.candidate.identity.label()}")
        if result.baseline is not None:
            print(f"baseline:  {result.baseline.identity.label()}")
        print(result.table)
        if result.accepted:
            print(f"\nverdict: ACCEPTED -> {result.published}")
            continue
        print("\nverdict: REJECTED (nothing written to the registry)")
        for line in result.failures:
            print(f"  {line}", file=sys.stderr)
    if len(results) > 1:
        rows = ranking([(r.candidate.identity.label(), r.candidate) for r in results])
        print(f"\nranking ({len(results)} candidates against one baseline; regression decisions Holm-corrected):")
        print(render(["rank", "candidate", "failing", "mean improvement"],
                     [[i + 1, label, failing, f"{gain:+.3f}"] for i, (label, failing, gain) in enumerate(rows)]))
    return 0 if all(r.accepted for r in results) else 1
