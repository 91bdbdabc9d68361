"""``harness runs``, ``harness report`` and ``harness cache``: list stored runs, rebuild a report from the store
alone, show or clear the result cache."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from harness.errors import HarnessError
from harness.store.embeddings import EmbeddingCache
from harness.store.location import ENV
from harness.store.result_cache import ResultCache
from harness.store.store import RunStore


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the store's subcommands to the ``harness`` parser."""
    runs = subparsers.add_parser("runs", help="list the evaluation runs in the run store, newest first")
    runs.add_argument("-n", "--limit", type=int, default=20, help="how many runs to list (default 20; 0 = all)")
    runs.add_argument("--json", action="store_true", help="print the list as JSON")
    store_option(runs)
    runs.set_defaults(func=cmd_runs)

    rep = subparsers.add_parser("report", help="write the before/after HTML report of two stored runs")
    rep.add_argument("--candidate", default="latest", metavar="RUN",
                     help="the run under review: an id from 'harness runs', 'latest' (default) or 'latest~N'")
    rep.add_argument("--baseline", default=None, metavar="RUN",
                     help="the run to compare with (default: the baseline the candidate was evaluated against; "
                          "'none' for a single-run report)")
    rep.add_argument("--out", default=None, metavar="FILE.html",
                     help="where to write the HTML report (default: reports/run-<candidate>-vs-<baseline>.html)")
    rep.add_argument("--summary", default=None, metavar="FILE.md", help="also write a Markdown summary (PR comment)")
    store_option(rep)
    rep.set_defaults(func=cmd_report)

    cache = subparsers.add_parser(
        "cache", help="show (or --clear) the result cache that lets unchanged re-runs skip the model")
    cache.add_argument("--clear", action="store_true", help="delete every cached result and embedding (stored runs are kept)")
    store_option(cache)
    cache.set_defaults(func=cmd_cache)


def store_option(parser: argparse.ArgumentParser) -> None:
    """``--store``: the main entry point makes it the default store for the whole command."""
    parser.add_argument("--store", default=None, metavar="FILE|URL",
                        help=f"run store: an SQLite file or postgresql://user@host/db "
                             f"(default: ${ENV}, else runs.sqlite3 in the user data directory)")


def cmd_runs(args: argparse.Namespace) -> int:
    store = RunStore(args.store)
    infos = store.list(limit=args.limit or None)
    if args.json:
        print(json.dumps([{"id": i.id, "created_at": i.created_at, "model": i.model, "adapter": i.adapter,
                           "verdict": i.verdict, "suites": list(i.suites), "baseline_run": i.baseline_run}
                          for i in infos], indent=2))
        return 0
    if not infos:
        print(f"no runs stored in {store.location}")
        return 0
    rows = [("id", "saved (UTC)", "model + adapter", "verdict", "vs", "suites")]
    rows += [(str(i.id), i.created_at.replace("T", " ").split("+")[0], i.label(), i.verdict,
              str(i.baseline_run or ""), ", ".join(i.suites)) for i in infos]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1])
    print(f"\n{len(infos)} run(s) from {store.location}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report import write_report  # jinja2 and friends only when a report is written

    store = RunStore(args.store)
    cand_info = store.info(args.candidate)
    base_ref = args.baseline
    if base_ref is None:
        base_ref = cand_info.baseline_run
    elif base_ref.strip().lower() == "none":
        base_ref = None
    base_info = store.info(base_ref) if base_ref is not None else None
    if base_info is not None and base_info.id == cand_info.id:
        raise HarnessError(f"--baseline and --candidate are the same run ({cand_info.id}); pick two different runs")
    out = Path(args.out) if args.out else Path("reports") / (
        f"run-{cand_info.id}-vs-{base_info.id}.html" if base_info else f"run-{cand_info.id}.html")
    if out.suffix.lower() not in (".html", ".htm"):
        raise HarnessError(f"--out {out}: the report is an HTML file; name it *.html")
    report = write_report(
        out, store.load(cand_info.id), store.load(base_info.id) if base_info else None,
        summary=args.summary, candidate_info=cand_info, baseline_info=base_info,
    )
    for note in report.notes:  # two runs that are not fully comparable: said loudly, and in the report
        print(f"warning: {note}", file=sys.stderr)
    against = f"run {base_info.id} ({base_info.label()})" if base_info else "no baseline (single-run report)"
    print(f"candidate: run {cand_info.id} ({cand_info.label()})\nbaseline:  {against}")
    print(f"verdict:   {'ACCEPTED' if report.accepted else 'REJECTED'}")
    print(f"report:    {out.resolve()}")
    if args.summary:
        print(f"summary:   {Path(args.summary).resolve()}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    cache = ResultCache(args.store)
    embeddings = EmbeddingCache(cache.location)
    if args.clear:
        print(f"deleted {cache.clear()} cached result(s) and {embeddings.clear()} embedding(s) from {cache.location}")
        return 0
    counts = cache.count_by_kind()
    print(f"{counts['generate']} generation(s), {counts['loglikelihood']} log-likelihood(s) and "
          f"{embeddings.count()} embedding(s) cached in {cache.location}")
    return 0
