"""The ``harness`` command (also ``python -m harness``).

Each subcommand module (``suites``: run / validate / prepare; ``train``: train / merge / synth;
``store``: runs / report / cache; ``gate``: gate / holdout; ``lmeval``; ``demo``) has a
``register(subparsers)`` and thin ``cmd_*`` functions that call the library below.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from harness import __version__
from harness.cli import demo, gate, lmeval, store, suites, train
from harness.errors import HarnessError


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Eval-first release gate for fine-tuned LLM adapters.")
    parser.add_argument("--version", action="version", version=f"adapter-harness {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the libraries' own progress bars, logs and warnings (hidden by default)")
    sub = parser.add_subparsers(dest="command", required=True)

    for module in (suites, train, store, gate, lmeval, demo):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    from harness.backends import shard

    if shard.init_from_launcher() and not shard.is_main():
        # `accelerate launch --num_processes N -m harness ...`: every process evaluates its share of the
        # batches; the first one prints, stores and publishes, the others stay silent
        sys.stdout = open(os.devnull, "w")
    from harness.logs import set_verbosity

    set_verbosity(args.verbose)
    from harness.store.location import using

    try:
        with using(getattr(args, "store", None)):  # --store: the run store of every part of this command
            return args.func(args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`harness runs | head`): not a failure to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's advice: no second error at exit
        return 0
