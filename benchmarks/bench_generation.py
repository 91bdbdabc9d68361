"""Batched vs one-at-a-time generation on the suites' generation prompts (embedded model).

All modes run in this process on the same loaded model, one after the other, on the same
prompts: one ``generate([request])`` per prompt, then the one batched backend call the
runner makes, at each batch size asked for. Reports tokens/s of each and the ratio to one
at a time (target >= 5x), and the share of greedy outputs identical to one at a time
(target >= 98%), listing every differing case with why it differs: at the first differing
token, the logits of the two candidates in a plain unpadded forward. A tiny gap there is
a near-tie that padding's float rounding tipped the other way.

    python benchmarks/bench_generation.py                  # every generation case of suites/
    python benchmarks/bench_generation.py --per-suite 16   # the first 16 of each suite
    python benchmarks/bench_generation.py --smoke          # 4 prompts, 8 new tokens
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import _shared

from harness.backend import GenerationRequest


def generation_requests(suites, per_suite: int | None, max_new: int | None) -> dict[GenerationRequest, list[str]]:
    """Each distinct generation request of the suites (as the runner builds them) -> its case ids."""
    found: dict[GenerationRequest, list[str]] = {}
    for suite in suites:
        if suite.skip_reason:
            print(f"note: {suite.name} skipped: {suite.skip_reason}")
            continue
        taken = 0
        for case in suite.cases:
            if not any(c.spec.needs == "output" for c in suite.checks_for(case)):
                continue
            if per_suite is not None and taken >= per_suite:
                break
            g = suite.generation_for(case)
            new_tokens = max_new or g.max_new_tokens
            request = GenerationRequest(suite.render(case), new_tokens, g.greedy, g.temperature, g.seed)
            found.setdefault(request, []).append(f"{suite.name}/{case.id}")
            taken += 1
    return found


def count_tokens(tokenizer, texts: list[str]) -> int:
    """Generated tokens, counted by re-encoding each completion (the backend returns text)."""
    return sum(len(tokenizer.encode(t, add_special_tokens=False)) for t in texts)


def why_different(backend, request: GenerationRequest, batched: str, alone: str) -> str:
    """The two candidate tokens at the first difference and their logits in an unpadded forward.

    Completions are re-encoded from text, so the position is approximate when decoding merged
    tokens; an output that simply ends there chose end-of-sequence.
    """
    import torch

    tok = backend.tokenizer
    a, b = tok.encode(batched, add_special_tokens=False), tok.encode(alone, add_special_tokens=False)
    k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if k >= len(a) and k >= len(b):
        return "same tokens after re-encoding (differ in whitespace only)"
    eos = tok.eos_token_id
    pick_a, pick_b = (a[k] if k < len(a) else eos), (b[k] if k < len(b) else eos)
    prompt = backend._generator.encode_prompt(request)
    with torch.inference_mode():
        logits = backend.model(torch.tensor([prompt + a[:k]])).logits[0, -1].float()
    la, lb = float(logits[pick_a]), float(logits[pick_b])
    return (f"token {k}: batched chose {tok.decode([pick_a])!r} (logit {la:.4f}), alone chose "
            f"{tok.decode([pick_b])!r} (logit {lb:.4f}); gap {abs(la - lb):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suites", nargs="+", default=["suites"], help="suite files or directories (default: suites/)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32],
                        help="batched runs to compare (default: 8, the harness default, and 32)")
    parser.add_argument("--per-suite", type=int, default=None, help="only the first N generation prompts of each suite")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="override every case's max_new_tokens")
    parser.add_argument("--smoke", action="store_true", help="tiny version: 4 prompts, 8 new tokens (seconds)")
    args = parser.parse_args()
    if args.smoke:
        args.suites, args.per_suite, args.max_new_tokens, args.batch_sizes = ["suites/refusals.yaml"], 4, 8, [4]
    _shared.header("bench_generation: batched vs one-at-a-time greedy generation", args.smoke)

    from harness.backends import load_backend
    from harness.backends.hf import HFBackend

    requests = generation_requests(_shared.load_suites(args.suites), args.per_suite, args.max_new_tokens)
    order = list(requests)
    backend = load_backend(None, batch_size=1, progress=False)
    backend.generate([dataclasses.replace(order[0], max_new_tokens=2)])  # warm-up: first-call costs out of all timings
    tokenizer = backend.tokenizer

    started = time.perf_counter()
    alone = [backend.generate([r])[0] for r in order]
    alone_s = time.perf_counter() - started
    alone_rate = count_tokens(tokenizer, alone) / alone_s
    rows = [["one at a time", len(order), count_tokens(tokenizer, alone), f"{alone_s:.1f}", f"{alone_rate:.1f}", "1.0x",
             "—"]]
    runs = {}
    for size in args.batch_sizes:
        # Another backend object over the same loaded weights: only the batch size differs.
        batched_backend = HFBackend(backend.model, tokenizer, backend.identity, batch_size=size, progress=False)
        started = time.perf_counter()
        runs[size] = outputs = batched_backend.generate(order)
        seconds = time.perf_counter() - started
        tokens = count_tokens(tokenizer, outputs)
        same = sum(x == y for x, y in zip(outputs, alone))
        identical = f"{same}/{len(order)} = {100 * same / len(order):.1f}%"
        rows.append([f"batched, batch {size}", len(order), tokens, f"{seconds:.1f}", f"{tokens / seconds:.1f}",
                     _shared.ratio(tokens / seconds, alone_rate), identical])
    print(_shared.table(["mode", "prompts", "tokens", "seconds", "tokens/s", "speed-up", "identical to one at a time"],
                        rows))
    print("\ntargets: speed-up >= 5x, identical >= 98%")
    for size, outputs in runs.items():
        differing = [i for i, (x, y) in enumerate(zip(outputs, alone)) if x != y]
        if differing:
            print(f"\ndiffering cases at batch {size}:")
            for i in differing:
                print(f"  {', '.join(requests[order[i]])}: {why_different(backend, order[i], outputs[i], alone[i])}")


if __name__ == "__main__":
    main()
