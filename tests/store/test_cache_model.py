"""The result cache on a real (tiny, random) transformers model: identities and forward counts."""

from __future__ import annotations

import shutil

import pytest

from harness.backend import GenerationRequest, LoglikelihoodRequest
from harness.backends import load_backend
from harness.backends.cached import CachedBackend, request_scope
from harness.store.result_cache import ResultCache
from tests.backends.conftest import make_tiny_model, save_random_lora

pytest_plugins = ["pytester"]

REQUESTS = [GenerationRequest("Once upon a time", 6), GenerationRequest((("user", "Say hi."),), 6)]
SCORED = [LoglikelihoodRequest("The sky is", " blue"), LoglikelihoodRequest("The sky is", " green")]


class ForwardCounter:
    """Counts forward passes of a torch module (and so every token batch the model really ran)."""

    def __init__(self, backend):
        self.calls = 0
        backend.model.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        self.calls += 1


@pytest.fixture(scope="module")
def tiny_lora_dir(tmp_path_factory):
    return save_random_lora(make_tiny_model(), tmp_path_factory.mktemp("tiny-lora"))


def test_identity_hashes_the_tokenizer_and_chat_template(tiny_model_dir, tmp_path):
    identity = load_backend(str(tiny_model_dir), progress=False).identity
    assert identity.tokenizer_sha256 and len(identity.tokenizer_sha256) == 64
    assert identity.details["config_sha256"]
    edited = tmp_path / "edited"
    shutil.copytree(tiny_model_dir, edited)
    template = edited / "chat_template.jinja"
    template.write_text(template.read_text().replace("<|im_start|>", "<|im_start|> "))
    other = load_backend(str(edited), progress=False).identity
    assert other.model_sha256 == identity.model_sha256
    assert other.tokenizer_sha256 != identity.tokenizer_sha256


def test_an_unchanged_rerun_runs_no_forward_pass(tiny_model_dir, tmp_path):
    cache = ResultCache(tmp_path / "runs.sqlite3")
    cold_backend = load_backend(str(tiny_model_dir), batch_size=2, progress=False)
    cold_forwards = ForwardCounter(cold_backend)
    cold = CachedBackend(cold_backend, cache)
    outputs, scores = cold.generate(REQUESTS), cold.loglikelihood(SCORED)
    assert cold_forwards.calls > 0

    warm_backend = load_backend(str(tiny_model_dir), batch_size=2, progress=False)
    warm_forwards = ForwardCounter(warm_backend)
    warm = CachedBackend(warm_backend, cache)
    assert warm.generate(REQUESTS) == outputs and warm.loglikelihood(SCORED) == scores
    assert warm_forwards.calls == 0


def test_an_adapter_never_reuses_the_base_models_results(tiny_model_dir, tiny_lora_dir, tmp_path):
    cache = ResultCache(tmp_path / "runs.sqlite3")
    base = CachedBackend(load_backend(str(tiny_model_dir), progress=False), cache)
    base_scores = base.loglikelihood(SCORED)
    tuned_backend = load_backend(str(tiny_model_dir), str(tiny_lora_dir), progress=False)
    forwards = ForwardCounter(tuned_backend)
    tuned = CachedBackend(tuned_backend, cache)
    assert tuned.scope != base.scope and tuned.scope == request_scope(tuned_backend.identity, type(tuned_backend))
    assert tuned.loglikelihood(SCORED) != base_scores
    assert forwards.calls > 0 and tuned.stats["loglikelihood"].hits == 0

    # Same weights file, other lora_alpha: the adapter config is part of the key too.
    retuned_dir = tmp_path / "retuned"
    shutil.copytree(tiny_lora_dir, retuned_dir)
    config = retuned_dir / "adapter_config.json"
    text = config.read_text()
    assert '"lora_alpha": 8' in text
    config.write_text(text.replace('"lora_alpha": 8', '"lora_alpha": 16'))
    retuned = CachedBackend(load_backend(str(tiny_model_dir), str(retuned_dir), progress=False), cache)
    assert retuned.identity.adapter_sha256 == tuned.identity.adapter_sha256
    retuned.loglikelihood(SCORED)
    assert retuned.stats["loglikelihood"].hits == 0


SUITE = """\
name: cached
generation: {max_new_tokens: 4}
cases:
  - id: hi
    prompt: Say hi.
    checks:
      - length: {max_words: 1000}
  - id: bye
    prompt: Say bye.
    checks:
      - length: {max_words: 1000}
thresholds:
  - {metric: pass_rate, min: 0.5}
"""


def test_pytest_reruns_use_the_cache_and_no_cache_bypasses_it(pytester, tiny_model_dir, monkeypatch):
    from harness.backends.hf.backend import HFBackend

    generated: list[int] = []
    original = HFBackend.generate

    def counting(self, requests):
        generated.append(len(requests))
        return original(self, requests)

    monkeypatch.setattr(HFBackend, "generate", counting)
    pytester.makeconftest('pytest_plugins = ["harness.pytest_plugin"]')
    (pytester.path / "suites").mkdir()
    (pytester.path / "suites" / "cached.yaml").write_text(SUITE)
    args = ("suites", "--model", str(tiny_model_dir), "-q", "-p", "no:cacheprovider")
    for extra, expected in [((), [2]), ((), []), (("--no-cache",), [2])]:
        generated.clear()
        result = pytester.runpytest(*args, *extra)
        result.assert_outcomes(passed=3)
        assert generated == expected, extra
