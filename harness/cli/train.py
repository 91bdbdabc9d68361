"""The ``harness train``, ``harness merge`` and ``harness synth`` subcommands.

``harness.cli`` calls :func:`register` with its subparsers; each command has a small parser
setup and a ``cmd_*`` function taking the parsed arguments and returning the exit code.
Errors are :class:`~harness.errors.HarnessError` (printed by the CLI as one line, exit 2).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train``, ``merge`` and ``synth`` to the ``harness`` command."""
    add_train_parser(subparsers)
    add_merge_parser(subparsers)
    add_synth_parser(subparsers)


# ------------------------------------------------------------------------ train


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "train", help="train a LoRA adapter (SFT, DPO or a reward model) from a recipe",
        description="Train a LoRA adapter from a YAML recipe (training/recipes/*.yaml) with TRL, float32 on CPU. "
        "The adapter appears at --out only when complete; an interrupted run can continue with --resume.",
    )
    p.add_argument("recipe", help="recipe YAML file, e.g. training/recipes/sft.yaml")
    p.add_argument("--out", default=None, help="adapter directory to create (default: runs/adapters/<recipe name>)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.add_argument("--max-steps", type=int, default=None, help="stop after N optimizer steps (overrides the recipe)")
    p.add_argument("--init-adapter", default=None, help="continue training this adapter (overrides the recipe's init_adapter)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing adapter at --out")
    p.add_argument("--checkpoint-dir", default=None, help="where checkpoints go (default: .<out name>.checkpoints next to --out)")
    p.add_argument("--dry-run", action="store_true", help="validate the recipe and its data, print row counts, do not train")
    p.set_defaults(func=cmd_train)
    return p


def cmd_train(args: argparse.Namespace) -> int:
    from harness.training.recipes import load_recipe
    from harness.training.run import load_data, train

    if args.max_steps is not None and args.max_steps < 1:
        raise_usage("--max-steps must be at least 1")
    recipe = load_recipe(args.recipe)
    if args.dry_run:
        files = load_data(recipe)
        for f, (shown, _, _) in zip(files, recipe.data_items(), strict=True):
            skipped = f", {len(f.skipped)} bad rows skipped" if f.skipped else ""
            print(f"{shown}: {len(f.rows)} rows ({f.format}{skipped})")
        held = ""
        if recipe.method == "reward":
            from harness.training.reward import split_heldout

            split = split_heldout(files, recipe.reward_or_default.heldout_fraction, recipe.seed)
            held = f"; {len(split.heldout)} pairs of {split.heldout_prompts} prompts held out for accuracy"
        print(f"{recipe.display_name}: ok ({recipe.method}, {sum(len(f.rows) for f in files)} rows{held})")
        return 0
    out = Path(args.out) if args.out else Path("runs") / "adapters" / recipe.display_name
    result = train(recipe, out, resume=args.resume, max_steps=args.max_steps, init_adapter=args.init_adapter,
                   overwrite=args.overwrite, checkpoint_dir=args.checkpoint_dir)
    info = result.info
    if "metrics" not in info:  # another process of a multi-process run: the first one reports
        return 0
    loss = info["metrics"].get("train_loss")
    loss_text = f", train loss {loss:.3f}" if isinstance(loss, float) else ""
    heldout = info.get("heldout") or {}
    acc_text = ""
    if heldout.get("pairs"):
        acc_text = f", held-out pairwise accuracy {heldout['accuracy']:.3f} on {heldout['pairs']} pairs"
    print(f"adapter written to {result.out} ({info['global_step']} steps, "
          f"{info['seconds_per_step']} s/step{loss_text}{acc_text})")
    return 0


def raise_usage(message: str) -> None:
    from harness.errors import HarnessError

    raise HarnessError(message)


# ------------------------------------------------------------------------ merge


def add_merge_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "merge", help="merge a LoRA adapter into its base model (standalone safetensors model directory)",
        description="Write base model + LoRA adapter merged (peft merge_and_unload) as a plain transformers model "
        "directory (float32 safetensors + tokenizer) that loads without peft. The adapter's integrity is checked "
        "first; the directory appears at --out only when complete.",
    )
    p.add_argument("--adapter", required=True, help="PEFT LoRA adapter directory (e.g. from 'harness train')")
    p.add_argument("--out", required=True, help="model directory to create")
    p.add_argument("--model", default=None,
                   help="base model: 'embedded', a hub id or a local directory "
                   "(default: the one the adapter was trained on)")
    p.add_argument("--force", action="store_true", help="replace a non-empty --out")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_merge)
    return p


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.training.merge import merge

    result = merge(args.adapter, args.out, model=args.model, force=args.force, progress=not args.quiet)
    base = result.info["base_model"]
    print(f"merged model written to {result.out} (base {base['name']} + adapter {result.info['adapter']['path']})")
    return 0


# ------------------------------------------------------------------------ synth


def add_synth_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from harness.training.synth import TOPICS

    p = subparsers.add_parser(
        "synth", help="generate synthetic preference pairs (prompt/chosen/rejected JSONL)",
        description="Combine template lists of good and bad responses into preference pairs; "
        "the same --seed and --n always give the same file.",
    )
    p.add_argument("--out", required=True, help="JSONL file to write")
    p.add_argument("--n", type=int, default=100, help="number of pairs (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--topics", nargs="+", choices=sorted(TOPICS), default=None, help="topics to draw from (default: all)")
    p.add_argument("--answers-from", nargs="+", metavar="SFT_FILE", default=None,
                   help="instead of templates: one pair per row of these SFT files, the row's answer "
                   "(chosen) against the opposite behaviour (rejected): eager compliance for rows tagged "
                   "'harmful', an over-refusal for the rest")
    p.set_defaults(func=cmd_synth)
    return p


def cmd_synth(args: argparse.Namespace) -> int:
    from harness.training.synth import answer_pairs, generate, write_jsonl

    if Path(args.out).is_dir():
        raise_usage(f"--out {args.out} is a directory; give the JSONL file to write, e.g. {Path(args.out) / 'pairs.jsonl'}")
    if args.answers_from:
        try:
            pairs = answer_pairs(args.answers_from, seed=args.seed)
        except ValueError as exc:
            raise_usage(str(exc))
        write_jsonl(pairs, args.out)
        print(f"wrote {len(pairs)} answer-vs-opposite pairs to {args.out}", file=sys.stderr)
        return 0
    if args.n < 1:
        raise_usage("--n must be at least 1")
    try:
        pairs = generate(args.n, seed=args.seed, topics=args.topics)
    except ValueError as exc:  # more pairs than the templates can make
        raise_usage(str(exc))
    write_jsonl(pairs, args.out)
    print(f"wrote {len(pairs)} preference pairs to {args.out}", file=sys.stderr)
    return 0
