"""The ``harness export-lm-eval`` subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export-lm-eval", help="write suites as lm-eval tasks (scored by the harness's own scorers)",
        description="Write each suite as an lm-eval task directory under --out: task YAML, the cases as JSON "
        "lines, and a utils.py whose metric functions are the harness's scorers. Chat prompts are rendered with "
        "--model's chat template, so run the tasks on that model: "
        "lm_eval --model hf --model_args pretrained=MODEL,peft=ADAPTER,dtype=float32 --device cpu "
        "--include_path OUT --tasks harness_<suite>",
    )
    p.add_argument("suites", nargs="*", default=["suites"], help="suite files or directories (default: suites/)")
    p.add_argument("--out", required=True, help="directory to write the task directories into")
    p.add_argument("--model", default=None,
                   help="model whose chat template renders chat prompts: 'embedded' (default), a hub id or a directory")
    p.add_argument("--adapter", default=None, help="PEFT adapter directory to put into the printed lm_eval command")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from harness.backends.hf.lmeval import prompt_renderer
    from harness.lmeval.export import export_suites
    from harness.loader import load_suites

    suites = load_suites(args.suites)
    render, model_name = prompt_renderer(args.model)
    out = Path(args.out)
    exported = export_suites(suites, out, render, model_name)
    for item in exported:
        if len(item.parts) == 1:  # the task is its one part: say it once
            (part,) = item.parts
            print(f"{item.suite.path} -> {item.directory}: task {item.task} ({part.kind}, {len(part.cases)} cases)")
        else:
            parts = ", ".join(f"{p.name} ({p.kind}, {len(p.cases)} cases)" for p in item.parts)
            print(f"{item.suite.path} -> {item.directory}: task group {item.task}: {parts}")
    for suite in suites:
        if not suite.cases:
            print(f"{suite.path}: nothing to export (no cases; its lm_eval tasks run in lm-eval as they are)")
    if exported:
        model_dir = _model_dir_hint(args.model)
        tasks = ",".join(item.task for item in exported)
        peft = f",peft={Path(args.adapter).resolve()}" if args.adapter else ""
        print(
            "\nrun with:\n  lm_eval --model hf --model_args "
            f"pretrained={model_dir},dtype=float32{peft} --device cpu --batch_size 8 "
            f"--include_path {out} --tasks {tasks}"
        )
        if not args.adapter:
            print("  (add ,peft=ADAPTER_DIR to --model_args to evaluate an adapter, or export with --adapter)")
    return 0


def _model_dir_hint(model: str | None) -> str:
    if model in (None, "", "embedded"):
        from harness.backends.hf.embedded import embedded_model_dir

        return str(embedded_model_dir())
    return model
