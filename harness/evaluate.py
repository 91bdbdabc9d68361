"""Evaluate suites on a model (and optionally a baseline): the one entry point the CLI and pytest share."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from harness.backend import Backend, ServerOptions
from harness.device import trim_heap
from harness.errors import HarnessError
from harness.results import RunResult
from harness.runner import run_suites
from harness.schema import Suite
from harness.store import record, store_disabled
from harness.store.embeddings import reuse_off


@dataclass(frozen=True)
class ModelSpec:
    """A model to evaluate: base model (None = embedded) plus an optional LoRA adapter.

    With ``server``, both are names the OpenAI-compatible server serves (the adapter's as the
    server lists it, e.g. vLLM's ``--lora-modules NAME=PATH``), not local paths.
    """

    model: str | None = None
    adapter: str | None = None
    server: ServerOptions | None = None
    engine: str = "hf"  # in process: 'hf' (transformers) or 'vllm'

    @classmethod
    def from_options(cls, model: str | None, adapter: str | None, *, backend: str = "hf", base_url: str | None = None,
                     fingerprint: str | None = None, max_concurrency: int = 4, timeout: float = 120.0) -> ModelSpec:
        """The spec the command-line options describe (``harness run`` and ``pytest`` share them)."""
        if backend in ("hf", "vllm"):
            if base_url:
                raise HarnessError("--base-url is for --backend openai-compatible")
            return cls(model, adapter, engine=backend)
        if backend != "openai-compatible":
            raise HarnessError(f"unknown --backend {backend!r}; known: hf, openai-compatible, vllm")
        if not base_url or not model:
            raise HarnessError("--backend openai-compatible needs --base-url (e.g. http://127.0.0.1:8000/v1) and "
                               "--model (a name the server lists under /v1/models)")
        return cls(model, adapter, ServerOptions(base_url, fingerprint, max_concurrency, timeout))

    def label(self) -> str:
        base = self.model or "embedded"
        label = base if self.adapter is None else f"{base} + {self.adapter}"
        return f"{label} @ {self.server.base_url}" if self.server else label


def baseline_spec(baseline: str, candidate: ModelSpec) -> ModelSpec:
    """What ``--baseline`` names: 'base' (the candidate's base model without adapter), an adapter dir, or a model.

    >>> baseline_spec("base", ModelSpec("m", "a")).label()
    'm'
    >>> baseline_spec("gpt2", ModelSpec(None, "a")).label()
    'gpt2'
    >>> served = ModelSpec("m", "m-lora", ServerOptions("http://127.0.0.1:8000/v1"))
    >>> baseline_spec("base", served).label()
    'm @ http://127.0.0.1:8000/v1'

    """
    if baseline == "base":
        return ModelSpec(candidate.model, None, candidate.server, candidate.engine)
    if candidate.server is not None:  # a served adapter or model name, on the same server
        return ModelSpec(candidate.model, baseline, candidate.server)
    if (Path(baseline) / "adapter_config.json").is_file():
        return ModelSpec(candidate.model, baseline, engine=candidate.engine)
    return ModelSpec(baseline, None, engine=candidate.engine)


def evaluate(
    suites: Sequence[Suite],
    candidate: ModelSpec,
    baseline: ModelSpec | None = None,
    *,
    batch_size: int = 32,
    progress: bool = True,
    no_cache: bool = False,
    allow_missing: Sequence[str] = (),
) -> tuple[RunResult, RunResult | None]:
    """Run ``suites`` on the baseline (if any) and then the candidate, one model in memory at a time.

    Results already in the run store's result cache (same weights, tokenizer, request and
    harness version) are reused, and so are stored sentence embeddings; ``no_cache`` (or
    ``ADAPTER_HARNESS_STORE=off``) runs every request on the model and embeds every text.
    """
    with reuse_off() if no_cache else nullcontext():
        run = partial(_run_model, suites, batch_size=batch_size, progress=progress, no_cache=no_cache,
                      allow_missing=allow_missing)
        base_result = run(baseline, keep=baseline == candidate) if baseline is not None else None
        result = run(candidate, base_result)
    from harness.backends import shard

    if not shard.is_main():  # a data-parallel launch: the first process records the run
        return result, base_result
    try:
        ids = record(result, base_result)  # every run lands in the store, so reports never need a re-run
        if ids:
            result.stored_id = ids[0]
            if base_result is not None:
                base_result.stored_id = ids[1]
    except HarnessError as exc:  # the model work is done: keep the results, say why they were not stored
        print(f"warning: run not saved to the run store: {exc}", file=sys.stderr)
        for run in (result, base_result):
            if run is not None:
                run.store_error = str(exc)
    return result, base_result


def evaluate_many(
    suites: Sequence[Suite],
    candidates: Sequence[ModelSpec],
    baseline: ModelSpec,
    *,
    batch_size: int = 32,
    progress: bool = True,
    no_cache: bool = False,
    allow_missing: Sequence[str] = (),
) -> tuple[list[RunResult], RunResult]:
    """The baseline once, then every candidate against it on the same cases (one model in memory at a time)."""
    with reuse_off() if no_cache else nullcontext():
        run = partial(_run_model, suites, batch_size=batch_size, progress=progress, no_cache=no_cache,
                      allow_missing=allow_missing)
        base_result = run(baseline, keep=baseline in candidates)
        results = [run(spec, base_result) for spec in candidates]
    from harness.backends import shard

    if not store_disabled() and shard.is_main():
        try:  # the baseline once; every candidate linked to it
            from harness.store import RunStore

            store = RunStore(None)
            base_result.stored_id = store.save(base_result)
            for result in results:
                result.stored_id = store.save(result, baseline_run=base_result.stored_id)
        except HarnessError as exc:
            print(f"warning: runs not saved to the run store: {exc}", file=sys.stderr)
            for result in results:
                result.stored_id = None
            for run in (base_result, *results):
                run.store_error = str(exc)
    return results, base_result


def _run_model(suites: Sequence[Suite], spec: ModelSpec, baseline: RunResult | None = None, *, batch_size: int,
               progress: bool, no_cache: bool, allow_missing: Sequence[str], keep: bool = True) -> RunResult:
    """``suites`` on the model behind ``spec``; what the run allocated is returned before the next model loads.

    ``load_backend`` keeps the last two HF backends (the gate's applied-check asks for the same models
    again). ``keep=False`` lets this one go, so a baseline's weights (~0.55 GB for the embedded model)
    are freed before the candidate runs.
    """
    from harness.backends import release_backend

    backend = _load(spec, batch_size=batch_size, progress=progress, no_cache=no_cache)
    result = run_suites(suites, backend, baseline=baseline, allow_missing=allow_missing)
    _say_cache(backend, progress)
    if not keep:
        release_backend(backend)
    del backend
    trim_heap()  # give the run's freed pages (activations, KV caches) back before the next model loads
    return result


def _load(spec: ModelSpec, *, batch_size: int, progress: bool, no_cache: bool) -> Backend:
    """The model behind ``spec``, wrapped in the result cache unless caching is off."""
    from harness.backends import load_backend  # heavy import, only when a model is really needed
    from harness.backends.cached import CachedBackend
    from harness.store.result_cache import ResultCache

    backend = load_backend(spec.model, spec.adapter, batch_size=batch_size, progress=progress, server=spec.server,
                           engine=spec.engine)
    if no_cache or store_disabled():
        return backend
    return CachedBackend(backend, ResultCache(None))


def _say_cache(backend: Backend, progress: bool) -> None:
    from harness.backends.cached import CachedBackend

    if progress and isinstance(backend, CachedBackend):
        print(backend.summary(), file=sys.stderr)
