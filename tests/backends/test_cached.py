"""The result cache on a counting fake backend: what is reused, what is re-run, what never hits."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from harness.backend import GenerationRequest, LoglikelihoodRequest, ModelIdentity
from harness.backends.cached import CachedBackend, request_key, request_scope
from harness.loader import load_suite
from harness.runner import run_suites
from harness.store import RunStore
from harness.store.result_cache import ResultCache

IDENTITY = ModelIdentity("fake-model", None, "m" * 64, None, {"backend": "fake", "dtype": "float32",
                                                              "model_dir": "/somewhere"}, tokenizer_sha256="t" * 64)

SUITE = """\
name: mini
generation: {max_new_tokens: 16}
cases:
  - id: alpha
    prompt: Say hi.
    checks:
      - length: {min_words: 1}
  - id: beta
    prompt: Say bye.
    checks:
      - length: {min_words: 1}
  - id: gamma
    prompt: Pick one.
    checks:
      - preference: {chosen: " yes", rejected: " no"}
thresholds:
  - {metric: pass_rate, min: 0.0}
"""


class CountingBackend:
    """Answers from the request text alone, and records every request it was asked to run."""

    def __init__(self, identity: ModelIdentity = IDENTITY, salt: str = ""):
        self.identity = identity
        self.salt = salt  # different "weights": different answers
        self.generated: list[list[GenerationRequest]] = []
        self.scored: list[list[LoglikelihoodRequest]] = []

    def generate(self, requests):
        self.generated.append(list(requests))
        return [f"{self.salt}answer to {r.prompt!r} in {r.max_new_tokens}" for r in requests]

    def loglikelihood(self, requests):
        self.scored.append(list(requests))
        return [-float(len(r.continuation + self.salt)) - 0.125 for r in requests]

    def forwarded(self) -> int:
        """Requests that reached the model so far."""
        return sum(map(len, self.generated)) + sum(map(len, self.scored))


@pytest.fixture
def suite_file(tmp_path):
    path = tmp_path / "mini.yaml"
    path.write_text(SUITE)
    return path


@pytest.fixture
def cache(store_spec):
    """A result cache in an SQLite file, and (each test's second run) in a PostgreSQL database."""
    return ResultCache(store_spec)


def _run(suite_file: Path, backend) -> dict:
    result = run_suites([load_suite(suite_file)], backend).to_dict()
    result.pop("seconds")
    return result


def test_an_unchanged_rerun_forwards_nothing_to_the_model(suite_file, cache):
    first, second = CountingBackend(), CountingBackend()
    cold = _run(suite_file, CachedBackend(first, cache))
    assert first.forwarded() == 4  # two generations, two log-likelihoods
    assert len(first.generated) == 1 and len(first.scored) == 1  # the misses go in one batched call each
    warm_backend = CachedBackend(second, cache)
    assert _run(suite_file, warm_backend) == cold
    assert second.forwarded() == 0 and second.generated == [] and second.scored == []
    assert warm_backend.stats["generate"].hits == 2 and warm_backend.stats["loglikelihood"].hits == 2
    assert "reused 2/2 generations, 2/2 log-likelihoods" in warm_backend.summary()


def test_editing_one_case_reruns_only_that_case(suite_file, cache):
    _run(suite_file, CachedBackend(CountingBackend(), cache))
    suite_file.write_text(SUITE.replace("Say bye.", "Say goodbye."))
    backend = CountingBackend()
    result = _run(suite_file, CachedBackend(backend, cache))
    assert [[r.prompt for r in call] for call in backend.generated] == [[(("user", "Say goodbye."),)]]
    assert backend.scored == []
    assert "Say goodbye." in result["suites"][str(suite_file)]["cases"][1]["output"]


def test_changed_generation_settings_are_a_miss(suite_file, cache):
    _run(suite_file, CachedBackend(CountingBackend(), cache))
    suite_file.write_text(SUITE.replace("max_new_tokens: 16", "max_new_tokens: 17"))
    backend = CountingBackend()
    _run(suite_file, CachedBackend(backend, cache))
    assert sum(map(len, backend.generated)) == 2 and backend.scored == []


@pytest.mark.parametrize("change", [
    {"adapter": "adapters/polite", "adapter_sha256": "a" * 64},
    {"model_sha256": "n" * 64},
    {"tokenizer_sha256": "u" * 64},
    {"details": {"backend": "fake", "dtype": "bfloat16"}},
])
def test_another_adapter_model_tokenizer_or_setting_never_hits(suite_file, cache, change):
    _run(suite_file, CachedBackend(CountingBackend(), cache))
    other = CountingBackend(dataclasses.replace(IDENTITY, **change), salt="tuned ")
    result = _run(suite_file, CachedBackend(other, cache))
    assert other.forwarded() == 4
    assert result["suites"][str(suite_file)]["cases"][0]["output"].startswith("tuned ")


def test_where_the_model_lives_does_not_matter(suite_file, cache):
    _run(suite_file, CachedBackend(CountingBackend(), cache))
    moved = CountingBackend(dataclasses.replace(IDENTITY, details={**IDENTITY.details, "model_dir": "/elsewhere"}))
    _run(suite_file, CachedBackend(moved, cache))
    assert moved.forwarded() == 0


@pytest.mark.parametrize("unknown", [
    {"model_sha256": None},
    {"tokenizer_sha256": None},
    {"adapter": "some/adapter", "adapter_sha256": None},
])
def test_an_unknown_hash_means_nothing_is_cached(suite_file, cache, unknown):
    identity = dataclasses.replace(IDENTITY, **unknown)
    for _ in range(2):
        backend = CountingBackend(identity)
        cached = CachedBackend(backend, cache)
        _run(suite_file, cached)
        assert backend.forwarded() == 4
    assert not cached.enabled and "off (a weights or tokenizer hash of this model is unknown)" in cached.summary()
    assert cache.count() == 0


def test_repeated_requests_in_one_call_run_once(cache):
    backend = CountingBackend()
    cached = CachedBackend(backend, cache)
    request = GenerationRequest("same", 8)
    assert cached.generate([request, request, GenerationRequest("other", 8), request]) == [
        "answer to 'same' in 8", "answer to 'same' in 8", "answer to 'other' in 8", "answer to 'same' in 8"]
    assert backend.generated == [[request, GenerationRequest("other", 8)]]
    assert (cached.stats["generate"].hits, cached.stats["generate"].misses) == (0, 4)  # repeats of a miss: misses


def test_cached_values_come_back_exactly(cache):
    values = [-0.1, -1e-300, -123456.789012345678, float("-inf"), 0.0]
    requests = [LoglikelihoodRequest("ctx", f" c{i}") for i in range(len(values))]

    class Fixed(CountingBackend):
        def loglikelihood(self, reqs):
            super().loglikelihood(reqs)
            return [values[requests.index(r)] for r in reqs]

    assert CachedBackend(Fixed(), cache).loglikelihood(requests) == values
    again = Fixed()
    assert CachedBackend(again, cache).loglikelihood(requests) == values
    assert again.forwarded() == 0


def test_a_nan_log_prob_is_not_stored(cache):
    class NaN(CountingBackend):
        def loglikelihood(self, reqs):
            super().loglikelihood(reqs)
            return [float("nan")] * len(reqs)

    for _ in range(2):
        backend = NaN()
        CachedBackend(backend, cache).loglikelihood([LoglikelihoodRequest("c", " x")])
        assert backend.forwarded() == 1


def test_chat_and_text_prompts_have_different_keys():
    scope = request_scope(IDENTITY)
    text = GenerationRequest("user: hi")
    chat = GenerationRequest((("user", "hi"),))
    assert request_key(scope, "generate", text) != request_key(scope, "generate", chat)
    assert request_key(scope, "generate", text) != request_key(scope, "loglikelihood", text)


def test_sampled_requests_keep_their_seed_in_the_key():
    scope = request_scope(IDENTITY)
    a, b = GenerationRequest("x", greedy=False, seed=1), GenerationRequest("x", greedy=False, seed=2)
    assert request_key(scope, "generate", a) != request_key(scope, "generate", b)


def test_an_unusable_store_warns_once_and_the_run_goes_on(suite_file, tmp_path):
    warnings: list[str] = []
    backend = CountingBackend()
    cached = CachedBackend(backend, ResultCache(tmp_path), warn=warnings.append)  # a directory, not a file
    result = _run(suite_file, cached)
    assert backend.forwarded() == 4 and result["verdict"] == "pass"
    assert len(warnings) == 1 and "result cache off for the rest of this run" in warnings[0]
    assert "is a directory" in warnings[0]
    assert "off (the run store could not be used)" in cached.summary()


def test_a_wrong_number_of_results_is_an_error(cache):
    from harness.errors import HarnessError

    class Short(CountingBackend):
        def generate(self, requests):
            return super().generate(requests)[:-1]

    with pytest.raises(HarnessError, match="backend returned 1 generate results for 2 requests"):
        CachedBackend(Short(), cache).generate([GenerationRequest("a"), GenerationRequest("b")])


def test_cache_lives_next_to_the_runs(suite_file, tmp_path):
    path = tmp_path / "runs.sqlite3"
    RunStore(path).save(run_suites([load_suite(suite_file)], CachedBackend(CountingBackend(), ResultCache(path))))
    assert len(RunStore(path).list()) == 1 and ResultCache(path).count() == 4
    scope = request_scope(IDENTITY, CountingBackend)
    assert ResultCache(path).count(scope) == 4
    assert ResultCache(path).clear(scope) == 4 and ResultCache(path).count() == 0


# --- two processes filling one cache at once ------------------------------------------------------


def _fill(path: str, start: int, barrier) -> None:
    barrier.wait()  # both processes look up, miss and write at the same moment
    cache = ResultCache(path)
    for round_ in range(5):
        requests = [GenerationRequest(f"prompt {i}", 8) for i in range(start + round_ * 10, start + round_ * 10 + 40)]
        backend = CountingBackend()
        outputs = CachedBackend(backend, cache).generate(requests)
        assert outputs == [f"answer to {r.prompt!r} in 8" for r in requests]


def test_two_processes_filling_one_cache_lose_and_corrupt_nothing(store_spec):
    path = store_spec
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_fill, args=(str(path), start, barrier)) for start in (0, 20)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert ResultCache(path).count() == 100  # prompts 0..99, each stored once
    backend = CountingBackend()
    requests = [GenerationRequest(f"prompt {i}", 8) for i in range(100)]
    assert CachedBackend(backend, ResultCache(path)).generate(requests) == [
        f"answer to {r.prompt!r} in 8" for r in requests]
    assert backend.forwarded() == 0
    if path.startswith("postgresql://"):
        return
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


# --- evaluate(): --no-cache and ADAPTER_HARNESS_STORE=off -----------------------------------------


@pytest.fixture
def fake_models(monkeypatch):
    """evaluate() loads CountingBackends instead of real models; the list holds each one loaded."""
    loaded: list[CountingBackend] = []

    def load_backend(model=None, adapter=None, **kwargs):
        identity = IDENTITY if adapter is None else dataclasses.replace(
            IDENTITY, adapter=adapter, adapter_sha256=adapter.ljust(64, "0"))
        loaded.append(CountingBackend(identity, salt=adapter or ""))
        return loaded[-1]

    monkeypatch.setattr("harness.backends.load_backend", load_backend)
    return loaded


def test_evaluate_reuses_results_unless_told_not_to(suite_file, fake_models):
    from harness.evaluate import ModelSpec, evaluate

    suites = [load_suite(suite_file)]
    first, _ = evaluate(suites, ModelSpec(), progress=False)
    second, _ = evaluate(suites, ModelSpec(), progress=False)
    third, _ = evaluate(suites, ModelSpec(), progress=False, no_cache=True)
    assert [b.forwarded() for b in fake_models] == [4, 0, 4]
    assert first.to_dict()["suites"] == second.to_dict()["suites"] == third.to_dict()["suites"]


def test_evaluate_with_a_baseline_caches_both_models_apart(suite_file, fake_models):
    from harness.evaluate import ModelSpec, evaluate

    suites = [load_suite(suite_file)]
    cand, base = evaluate(suites, ModelSpec(None, "ad"), ModelSpec(), progress=False)
    cand2, base2 = evaluate(suites, ModelSpec(None, "ad"), ModelSpec(), progress=False)
    assert [b.forwarded() for b in fake_models] == [4, 4, 0, 0]
    assert cand.to_dict()["suites"] == cand2.to_dict()["suites"] != base.to_dict()["suites"]


def test_store_off_means_no_cache(suite_file, fake_models, monkeypatch, tmp_path):
    from harness.evaluate import ModelSpec, evaluate

    monkeypatch.setenv("ADAPTER_HARNESS_STORE", "off")
    for _ in range(2):
        evaluate([load_suite(suite_file)], ModelSpec(), progress=False)
    assert [b.forwarded() for b in fake_models] == [4, 4]


def test_evaluate_says_how_much_was_reused(suite_file, fake_models, capsys):
    from harness.evaluate import ModelSpec, evaluate

    evaluate([load_suite(suite_file)], ModelSpec(), progress=True)
    evaluate([load_suite(suite_file)], ModelSpec(), progress=True)
    err = capsys.readouterr().err
    assert "result cache: reused 0/2 generations, 0/2 log-likelihoods" in err
    assert "result cache: reused 2/2 generations, 2/2 log-likelihoods" in err


def test_harness_run_store_option_sends_runs_and_cache_there(suite_file, fake_models, store_spec, tmp_path, capsys):
    from harness.cli import main
    from harness.store.location import locate

    default = locate(None)  # the test's private default store, which --store must leave alone
    for _ in range(2):
        main(["run", str(suite_file), "--store", store_spec, "-q"])
    assert [b.forwarded() for b in fake_models] == [4, 0]  # the second run came from that store's cache
    assert [i.id for i in RunStore(store_spec).list()] == [2, 1]
    assert main(["runs", "--store", store_spec]) == 0
    assert "2 run(s) from" in capsys.readouterr().out
    assert not default.exists() and locate(None) == default  # and --store ended with the command


def test_harness_run_has_a_no_cache_flag():
    from harness.cli import make_parser

    assert make_parser().parse_args(["run", "--no-cache"]).no_cache is True
    assert make_parser().parse_args(["run"]).no_cache is False
    assert make_parser().parse_args(["gate", "--adapter", "x", "--no-cache"]).no_cache is True



def test_harness_cache_shows_and_clears_the_cache(suite_file, tmp_path, capsys):
    from tests.cli.test_store import run_cli

    path = tmp_path / "runs.sqlite3"
    RunStore(path).save(run_suites([load_suite(suite_file)], CachedBackend(CountingBackend(), ResultCache(path))))
    assert run_cli("cache", "--store", str(path)) == 0
    assert "2 generation(s), 2 log-likelihood(s) and 0 embedding(s) cached in" in capsys.readouterr().out
    assert run_cli("cache", "--clear", "--store", str(path)) == 0
    assert "deleted 4 cached result(s) and 0 embedding(s)" in capsys.readouterr().out
    assert ResultCache(path).count() == 0 and len(RunStore(path).list()) == 1  # the runs stay
    assert run_cli("cache", "--store", str(tmp_path / "none.sqlite3")) == 0
    assert "0 generation(s), 0 log-likelihood(s) and 0 embedding(s)" in capsys.readouterr().out
