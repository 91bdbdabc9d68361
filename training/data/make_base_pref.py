"""Write ``finance_base_pref.jsonl`` and ``finance_calc_base_pref.jsonl``: each curated money answer
of the SFT files over the embedded base model's own answer to the same prompt.

Why: the base model's money answers ramble and state wrong sums ("15% of $4,000 equals $400" after
"approximately $1,000"), the faults the finance suite's checks catch. Pairs against the model's own
answers (as in SPIN) push the adapter away from what it would otherwise say, not from a hand-written
caricature. Experiments exp15 and exp16 (issue 23, ``training/recipes/experiments/``) use them.

The prompts are the SFT files' (none is a suite prompt: ``harness holdout`` checks that). The answers
are greedy, at the finance suite's 128 new tokens, so the files are reproducible on the same
model weights and library versions:

    python training/data/make_base_pref.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = ("finance_sft.jsonl", "finance_debt_sft.jsonl", "finance_calc_sft.jsonl")
CALC_SOURCE = "finance_calc_sft.jsonl"


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=None, help="the model answering (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--out", type=Path, default=HERE / "finance_base_pref.jsonl")
    p.add_argument("--calc-out", type=Path, default=HERE / "finance_calc_base_pref.jsonl",
                   help="the pairs of the calculation prompts alone")
    return p


def main(argv: list[str] | None = None) -> int:
    from harness.backends import load_backend
    from harness.model_io import GenerationRequest, as_messages
    from harness.training.synth import write_jsonl
    from harness.training_data import read_data_file

    args = make_parser().parse_args(argv)
    # validated and converted rows: {"prompt": [user message], "completion": [assistant message]}
    rows = [(name, row) for name in SOURCES for row in read_data_file(HERE / name).rows]
    backend = load_backend(args.model, batch_size=128)
    answers = backend.generate([GenerationRequest(prompt=as_messages(r["prompt"]), max_new_tokens=128)
                                for _, r in rows])
    pairs = [(name, {"prompt": r["prompt"][-1]["content"], "chosen": r["completion"][0]["content"],
                     "rejected": a.strip()}) for (name, r), a in zip(rows, answers, strict=True)]
    for path, keep in ((args.out, lambda n: True), (args.calc_out, lambda n: n == CALC_SOURCE)):
        write_jsonl([p for n, p in pairs if keep(n)], path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
