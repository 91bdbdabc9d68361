"""The gate's pieces for an adapter served by an inference server (``--backend openai-compatible``).

The candidate is a name the server serves (vLLM: ``--lora-modules NAME=PATH``), gated against the
base model on the same server. Its weights are behind the server, so the harness cannot hash
them: the manifest records the server (its URL, version string and model ids) and the fingerprint
the user vouches for, and says the integrity was not verified by the harness. What is published
is that manifest alone: the registry entry names what was accepted; the weights stay with the
server that serves them.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from harness.backend import GenerationRequest, LoglikelihoodRequest, ServerOptions
from harness.errors import HarnessError

# Prompts whose greedy answers a LoRA that changes anything is very likely to change somewhere.
CANARY_PROMPTS = (
    (("user", "Name three colours of the rainbow and one fruit."),),
    (("user", "Write one sentence about the sea."),),
    (("user", "What should I do with a small inheritance?"),),
)
NOT_VERIFIED = "not verified by the harness: the weights are behind a server"


def served_applied_check(model: str, adapter: str, server: ServerOptions) -> str:
    """Refuse a served adapter that does not change the model; return how that was established.

    The canary's log-probability where the server returns prompt log-probabilities, else greedy
    answers to a few prompts (identical answers to all of them: refused as not applied)."""
    from harness.backends import load_backend
    from harness.backends.server import PromptLogprobsUnavailable

    base = load_backend(model, None, server=server, progress=False)
    tuned = load_backend(model, adapter, server=server, progress=False)
    request = [LoglikelihoodRequest("Colours of the rainbow:", " red, orange and yellow.")]
    try:
        before, after = base.loglikelihood(request)[0], tuned.loglikelihood(request)[0]
        if abs(before - after) <= 1e-6:
            raise HarnessError(f"served adapter {adapter!r} does not change the model: the canary's log-prob is "
                               f"{after:.6f} with and without it; refusing to score it")
        return f"canary log-prob {before:.3f} (base) -> {after:.3f}"
    except PromptLogprobsUnavailable:
        prompts = [GenerationRequest(p, 24) for p in CANARY_PROMPTS]
        same = sum(a == b for a, b in zip(base.generate(prompts), tuned.generate(prompts)))
        if same == len(prompts):
            raise HarnessError(f"served adapter {adapter!r} answers all {len(prompts)} canary prompts exactly as the "
                               "base model does: it is probably not applied (check the server's LoRA settings); "
                               "refusing to score it") from None
        return f"{len(prompts) - same} of {len(prompts)} canary answers differ from the base model's " \
               "(no prompt log-probabilities on this server)"


def server_info(server: ServerOptions) -> dict[str, Any]:
    """URL, version string (``/version`` where the server has one, else its HTTP ``server`` header) and model ids."""
    root = server.base_url.rstrip("/").removesuffix("/v1")
    info: dict[str, Any] = {"base_url": server.base_url, "version": None, "models": []}
    try:
        with urllib.request.urlopen(f"{server.base_url.rstrip('/')}/models", timeout=10) as answer:
            info["models"] = sorted(m.get("id") for m in json.load(answer).get("data", []))
            info["version"] = answer.headers.get("server")
    except (OSError, ValueError):
        pass
    try:
        with urllib.request.urlopen(f"{root}/version", timeout=10) as answer:
            info["version"] = json.load(answer).get("version") or info["version"]
    except (OSError, ValueError, AttributeError):
        pass
    return info


def served_adapter_fields(adapter: str, server: ServerOptions) -> dict[str, Any]:
    """The manifest's ``adapter`` entry for a served adapter."""
    return {"served_name": adapter, "fingerprint": server.fingerprint, "weights_sha256": None,
            "integrity": NOT_VERIFIED}
