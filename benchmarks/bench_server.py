"""The same suite through an OpenAI-compatible server (concurrency 1, 4, 16) and in process, in one run.

Starts ``transformers serve`` on loopback with the embedded model (float32, CPU), sends every
generation request of the suite through :class:`~harness.backends.server.ServerBackend` at each
concurrency, then through the in-process HF backend, and reports wall time, requests/s, the
speed against in-process, and the share of greedy outputs identical to in-process (every
difference listed). Also records what the server supports: chat, completions, prompt logprobs.

    python benchmarks/bench_server.py                          # suites/politeness.yaml, all cases
    python benchmarks/bench_server.py --suite suites/refusals.yaml --limit 24
    python benchmarks/bench_server.py --smoke                  # 3 cases, 8 new tokens, concurrency 1 and 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _shared

from harness.backend import GenerationRequest, LoglikelihoodRequest


def requests_of(suite, limit: int | None, max_new: int | None) -> list[GenerationRequest]:
    out = []
    for case in suite.cases:
        if any(c.spec.needs == "output" for c in suite.checks_for(case)):
            g = suite.generation_for(case)
            out.append(GenerationRequest(suite.render(case), max_new or g.max_new_tokens, g.greedy, g.temperature, g.seed))
    return out[:limit] if limit else out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="suites/politeness.yaml")
    parser.add_argument("--limit", type=int, default=None, help="the first N generation cases")
    parser.add_argument("--max-new-tokens", type=int, default=None, help="override the suite's (default: keep)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        args.limit, args.max_new_tokens, args.concurrency = 3, 8, [1, 2]
    _shared.header("OpenAI-compatible server vs in-process", args.smoke)

    from harness.backends import load_backend
    from harness.backends.hf.embedded import ensure_embedded_model
    from harness.backends.local_server import transformers_serve
    from harness.backends.server import PromptLogprobsUnavailable, ServerBackend
    from harness.loader import load_suite

    suite = load_suite(_shared.REPO / args.suite)
    requests = requests_of(suite, args.limit, args.max_new_tokens)
    model_dir = ensure_embedded_model(progress=False)
    rows, runs = [], {}
    with transformers_serve(model_dir) as base_url:
        supports = {}
        probe = ServerBackend(base_url, str(model_dir), progress=False)
        supports["chat"] = bool(probe.generate([GenerationRequest((("user", "Say hi."),), 4)])[0])
        supports["completions"] = bool(probe.generate([GenerationRequest("The sky is", 4)])[0])
        try:
            probe.loglikelihood([LoglikelihoodRequest("The sky is", " blue")])
            supports["prompt_logprobs"] = True
        except PromptLogprobsUnavailable:
            supports["prompt_logprobs"] = False
        for n in args.concurrency:
            backend = ServerBackend(base_url, str(model_dir), max_concurrency=n, progress=False)
            start = time.perf_counter()
            runs[f"server c={n}"] = (backend.generate(requests), time.perf_counter() - start)
    local = load_backend(None, None, progress=False)
    start = time.perf_counter()
    runs["in-process (batched)"] = (local.generate(requests), time.perf_counter() - start)
    reference, local_s = runs["in-process (batched)"]
    result = {"suite": args.suite, "requests": len(requests), "server": "transformers serve",
              "supports": supports, "machine": _shared.machine(), "runs": {}}
    for name, (outputs, seconds) in runs.items():
        same = sum(a == b for a, b in zip(outputs, reference))
        rows.append([name, f"{seconds:.1f}", f"{len(requests) / seconds:.2f}", _shared.ratio(local_s, seconds),
                     f"{same}/{len(requests)}"])
        result["runs"][name] = {"seconds": round(seconds, 2), "identical_to_in_process": same}
        for request, a, b in zip(requests, outputs, reference):
            if a != b and name != "in-process (batched)":
                print(f"differs ({name}): {request.prompt!r}\n  server:     {a!r}\n  in-process: {b!r}")
    print(_shared.table(["backend", "wall s", "requests/s", "speed vs in-process", "identical"], rows))
    print(f"server supports: {supports}")
    if not args.smoke:
        out = Path(__file__).with_name("results") / "server.json"
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written: {out}")


if __name__ == "__main__":
    main()
