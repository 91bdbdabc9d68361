"""Result cache: a Backend wrapper that reuses results stored in the run store.

Re-running an unchanged suite on an unchanged model should cost no model time. Each
request is looked up by a key: the sha256 of everything that decides its result —

* the model weights, adapter weights and tokenizer/chat-template hashes from the
  backend's :class:`~harness.backend.ModelIdentity`, plus its other details (dtype,
  device, library versions, config and adapter-config hashes; not where files live);
* the harness version and a hash of the backend's own source files (an editable install
  changes code without changing the version);
* the request itself (prompt, generation or scoring parameters).

Only the misses go to the wrapped backend, in one batched call, and their results are
written in one transaction. When a hash is unknown (None) nothing is cached: a result
that cannot be tied to exact weights could be stale. Nothing here imports a model library.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.backend import Backend, GenerationRequest, LoglikelihoodRequest, ModelIdentity
from harness.errors import HarnessError
from harness.store.db import StoreError
from harness.store.result_cache import Kind, ResultCache, Value

FORMAT = 1  # bump when the meaning of a key changes, so old entries are never matched


@dataclass
class CacheStats:
    """How many requests of one kind were answered from the store, and how many ran."""

    hits: int = 0
    misses: int = 0
    uncached: int = 0  # ran without looking (no cache possible for this backend)

    @property
    def total(self) -> int:
        return self.hits + self.misses + self.uncached


def request_scope(identity: ModelIdentity, backend_type: type | None = None) -> str | None:
    """sha256 of what decides every result of a backend, or None when something is unknown.

    >>> ident = ModelIdentity("m", None, "a" * 64, None, {"dtype": "float32"}, tokenizer_sha256="t" * 64)
    >>> request_scope(ident) == request_scope(ModelIdentity("m", None, "a" * 64, None, {"dtype": "float32"},
    ...                                                     tokenizer_sha256="t" * 64))
    True
    >>> request_scope(ModelIdentity("m", None, "a" * 64, None, tokenizer_sha256=None)) is None
    True
    """
    if identity.model_sha256 is None or identity.tokenizer_sha256 is None:
        return None
    if identity.adapter is not None and identity.adapter_sha256 is None:
        return None
    doc = {
        "format": FORMAT,
        "harness": __version__,
        "backend": f"{backend_type.__module__}.{backend_type.__qualname__}" if backend_type else None,
        "code": _source_sha256(backend_type) if backend_type else None,
        "model_sha256": identity.model_sha256,
        "adapter_sha256": identity.adapter_sha256,
        "tokenizer_sha256": identity.tokenizer_sha256,
        # Where the files live does not change a result; their contents are hashed already.
        "details": {k: v for k, v in sorted(identity.details.items()) if not k.endswith(("_dir", "_path"))},
    }
    return _sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False))


def request_key(scope: str, kind: Kind, request: GenerationRequest | LoglikelihoodRequest) -> str:
    """sha256 of the scope, the kind of result and every field of the request.

    Greedy decoding ignores temperature and seed, so they are left out of a greedy
    request's key (changing a suite's seed does not invalidate greedy outputs).

    >>> a = GenerationRequest("hi", 8, greedy=True, seed=1)
    >>> request_key("s", "generate", a) == request_key("s", "generate", GenerationRequest("hi", 8, greedy=True, seed=2))
    True
    >>> request_key("s", "generate", a) == request_key("s", "generate", GenerationRequest("hi", 9))
    False
    """
    fields = {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}
    if fields.get("greedy") is True:
        fields.pop("temperature", None)
        fields.pop("seed", None)
    doc = {"type": type(request).__name__, "fields": fields}
    # Prompts are a str or a tuple of (role, content) pairs; JSON keeps the two apart (string vs list).
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=repr)
    return _sha256(f"{scope}\n{kind}\n{text}")


class CachedBackend:
    """A :class:`~harness.backend.Backend` that answers from the result cache where it can.

    ``stats`` counts hits and misses per kind; :meth:`summary` says it in one line.
    A run store that cannot be used is reported once (``warn``) and the run goes on
    uncached: the cache must never cost an evaluation.
    """

    def __init__(self, backend: Backend, cache: ResultCache, *, warn: Callable[[str], None] | None = None):
        self.inner = backend
        self.identity = backend.identity
        self.cache = cache
        self.scope = request_scope(backend.identity, type(backend))
        self.stats = {"generate": CacheStats(), "loglikelihood": CacheStats()}
        self._warn = warn or _stderr
        self._off_reason = "a weights or tokenizer hash of this model is unknown"

    @property
    def enabled(self) -> bool:
        return self.scope is not None

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        return self._through("generate", requests, self.inner.generate)  # type: ignore[return-value]

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        return self._through("loglikelihood", requests, self.inner.loglikelihood)  # type: ignore[return-value]

    def summary(self) -> str:
        """'result cache: reused 140/144 generations, 0/0 log-likelihoods' (or why it was off)."""
        if not self.enabled:
            return f"result cache: off ({self._off_reason})"
        gen, ll = self.stats["generate"], self.stats["loglikelihood"]
        return (f"result cache: reused {gen.hits}/{gen.total} generations, {ll.hits}/{ll.total} log-likelihoods "
                f"({self.cache.location})")

    def _through(self, kind: Kind, requests: Sequence[Any], compute: Callable[[list[Any]], list[Any]]) -> list[Value]:
        stats = self.stats[kind]
        if not requests:
            return []
        if self.scope is None:
            stats.uncached += len(requests)
            return _checked(kind, compute(list(requests)), len(requests))
        keys = [request_key(self.scope, kind, r) for r in requests]
        try:
            found = self.cache.get(kind, keys)
        except StoreError as exc:
            self._disable(exc)
            stats.uncached += len(requests)
            return _checked(kind, compute(list(requests)), len(requests))
        todo: dict[str, Any] = {}  # key -> request, first occurrence of each key that is not stored
        for key, request in zip(keys, requests):
            if key not in found and key not in todo:
                todo[key] = request
        hits = sum(key in found for key in keys)
        stats.hits += hits
        stats.misses += len(requests) - hits
        if todo:
            computed = dict(zip(todo, _checked(kind, compute(list(todo.values())), len(todo))))
            try:
                self.cache.put(kind, self.scope, computed)
            except StoreError as exc:
                self._disable(exc)
            found.update(computed)
        return [found[key] for key in keys]

    def _disable(self, exc: StoreError) -> None:
        self._warn(f"warning: result cache off for the rest of this run: {exc}")
        self._off_reason = "the run store could not be used"
        self.scope = None

    def __repr__(self) -> str:
        return f"CachedBackend({self.inner!r})"


def _checked(kind: Kind, results: list[Any], expected: int) -> list[Any]:
    if len(results) != expected:
        raise HarnessError(f"backend returned {len(results)} {kind} results for {expected} requests")
    return results


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=None)
def _source_sha256(backend_type: type) -> str | None:
    """sha256 of the source of the loaded modules of the package that defines ``backend_type``.

    Only modules already imported count (for the HF backend: loading, generation, scoring,
    tokenisation), so editing an unrelated module of the package does not empty the cache.
    """
    package = backend_type.__module__.rpartition(".")[0] or backend_type.__module__
    files = sorted(
        (name, Path(module.__file__)) for name, module in list(sys.modules.items())
        if (name == package or name.startswith(package + ".")) and getattr(module, "__file__", None)
    )
    lines = "".join(f"{name}:{hashlib.sha256(path.read_bytes()).hexdigest()}\n" for name, path in files
                    if path.is_file())
    return _sha256(lines) if lines else None


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
