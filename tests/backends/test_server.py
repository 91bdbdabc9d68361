"""The OpenAI-compatible backend against a real server (``transformers serve`` on loopback with the
embedded model), and its error paths against a small fake HTTP server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.backend import GenerationRequest, LoglikelihoodRequest
from harness.backends.server import PromptLogprobsUnavailable, ServerBackend, continuation_logprob
from harness.errors import HarnessError
from tests.fake_openai import CHAT, Fake

REPO = Path(__file__).resolve().parents[2]


# --- a real server --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(embedded_dir):
    """`transformers serve` with the embedded model, float32 on the CPU, stopped at the end."""
    from harness.backends.local_server import transformers_serve

    with transformers_serve(embedded_dir) as base_url:
        yield SimpleNamespace(base_url=base_url, model=str(embedded_dir))


AGREEMENT_CASES = 8  # make test; benchmarks/bench_server.py runs whole suites


def test_greedy_generations_agree_with_the_in_process_backend(served, embedded_dir):
    from harness.backends import load_backend
    from harness.loader import load_suite

    suite = load_suite(REPO / "suites" / "politeness.yaml")
    requests = [GenerationRequest(suite.render(case), 24) for case in suite.cases[:AGREEMENT_CASES]]
    server = ServerBackend(served.base_url, served.model, max_concurrency=4, progress=False)
    local = load_backend(None, None, progress=False)
    remote, here = server.generate(requests), local.generate(requests)
    differ = [(r.prompt, a, b) for r, a, b in zip(requests, remote, here) if a != b]
    for prompt, a, b in differ:  # every difference shown
        print(f"DIFFERENT for {prompt!r}:\n  server:     {a!r}\n  in-process: {b!r}")
    assert len(differ) <= 0.05 * len(requests), differ
    assert all(remote)


def test_a_server_without_prompt_logprobs_leaves_those_metrics_not_evaluated(served, tmp_path, capsys):
    from harness.cli import main

    suite = tmp_path / "mixed.yaml"
    suite.write_text(
        "name: mixed\ngeneration: {max_new_tokens: 8}\ncases:\n"
        "  - id: gen\n    prompt: Say hello.\n    tags: [gen]\n    checks: [{length: {max_words: 1000}}]\n"
        "  - id: mc\n    prompt: \"Q: What is 2+2?\\nA:\"\n    template: raw\n    tags: [mc]\n"
        "    checks: [{choice: {choices: [' 4', ' 5'], correct: [0], mode: mc1}}]\n"
        "thresholds:\n  - {metric: pass_rate, tag: gen, min: 0.5}\n  - {metric: mc1, min: 0.5}\n")
    argv = ["run", str(suite), "--backend", "openai-compatible", "--base-url", served.base_url, "--model", served.model,
            "-q"]
    assert main(argv) == 1  # mc1 has no value: not evaluated fails the suite ...
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split()[2:] for line in out.splitlines() if line.startswith("mixed ")}
    assert rows["mc1"][0] == "—" and rows["mc1"][-2:] == ["NOT", "EVALUATED"]
    assert "the server returns no prompt log-probabilities" in out
    assert rows["pass_rate@gen"][0] == "1.000"  # ... while the generation threshold is scored as usual
    assert main([*argv, "--allow-missing", "mixed:mc1"]) == 0  # ... unless it is accepted knowingly
    assert "not evaluated (allowed)" in capsys.readouterr().out


def test_the_cli_names_served_models_when_the_name_is_unknown(served):
    with pytest.raises(HarnessError, match=r"serves no model named 'nope'; it serves: .*smollm2"):
        ServerBackend(served.base_url, "nope", progress=False)


# --- error paths, on a fake server ---------------------------------------------------------------

def test_retries_on_429_and_5xx_then_answers(fake_openai, monkeypatch):
    monkeypatch.setenv("ADAPTER_HARNESS_API_KEY", "sk-secret")
    Fake.script = [(429, {"error": {"message": "slow down"}}), (503, {"error": {"message": "busy"}}), (200, CHAT)]
    backend = ServerBackend(fake_openai, "m", adapter_model="m-lora", max_retries=3, progress=False)
    assert backend.generate([GenerationRequest((("user", "hi"),), 5)]) == ["Hi there"]
    assert [p for p, _, _ in Fake.seen] == ["/v1/chat/completions"] * 3
    assert Fake.seen[-1][1]["model"] == "m-lora" and Fake.seen[-1][1]["temperature"] == 0.0
    assert Fake.seen[-1][2] == "Bearer sk-secret"  # sent to the server ...
    assert "sk-secret" not in json.dumps(backend.identity.details) + repr(backend)  # ... never recorded
    assert backend.identity.details["integrity"].startswith("not verified by the harness")


@pytest.mark.parametrize("script, message", [
    ([(500, {"error": {"message": "boom"}})], "answered 500"),
    ([(200, "{not json")], "not what the API promises"),
    ([("sleep", 3)], "did not answer in time"),
])
def test_server_failures_are_one_clear_error(fake_openai, script, message):
    Fake.script = script
    backend = ServerBackend(fake_openai, "m", max_retries=0, timeout=1.0, progress=False)
    with pytest.raises(HarnessError, match=message):
        backend.generate([GenerationRequest((("user", "hi"),), 5)])


def test_unreachable_server_and_unknown_model(fake_openai):
    with pytest.raises(HarnessError, match=r"cannot reach the server at http://127.0.0.1:1/v1"):
        ServerBackend("http://127.0.0.1:1/v1", "m", max_retries=0, progress=False)
    with pytest.raises(HarnessError, match=r"serves no model named 'other'; it serves: m, m-lora"):
        ServerBackend(fake_openai, "other", progress=False)


def test_concurrency_is_bounded(fake_openai):
    Fake.script = [("sleep", 0.3)]
    backend = ServerBackend(fake_openai, "m", max_concurrency=2, progress=False)
    start = time.perf_counter()
    backend.generate([GenerationRequest((("user", f"q{i}"),), 5) for i in range(4)])
    assert time.perf_counter() - start >= 0.55  # 4 requests, 2 at a time, 0.3 s each: two rounds


def test_prompt_logprobs_are_read_from_the_echo():
    """log P(' Paris' | 'Capital:') from an echoed prompt: the tokens at or after the context's end,
    summed by hand; the one generated token after the text is not counted."""
    text = "Capital: Paris"
    choice = SimpleNamespace(text=text + "!", logprobs=SimpleNamespace(
        text_offset=[0, 7, 8, 14], token_logprobs=[None, -0.5, -1.25, -3.0]))  # 'Capital', ':', ' Paris', '!'
    assert continuation_logprob(choice, len("Capital:"), text) == -1.25
    assert continuation_logprob(choice, len("Capital"), text) == -1.75
    no_echo = SimpleNamespace(text=" Paris", logprobs=None)
    assert continuation_logprob(no_echo, 8, text) is None


def test_echo_with_logprobs_on_the_fake_server(fake_openai):
    Fake.script = [(200, {"id": "x", "object": "text_completion", "created": 0, "model": "m", "choices": [{
        "index": 0, "finish_reason": "length", "text": "Q: A: 4\n",
        "logprobs": {"tokens": ["Q", ":", " A", ":", " 4", "\n"], "text_offset": [0, 1, 2, 4, 5, 7],
                     "token_logprobs": [None, -1.0, -2.0, -0.5, -0.25, -9.0], "top_logprobs": None}}]})]
    backend = ServerBackend(fake_openai, "m", progress=False)
    assert backend.loglikelihood([LoglikelihoodRequest("Q: A:", " 4")]) == [-0.25]
    sent = Fake.seen[-1][1]
    assert sent["echo"] is True and sent["logprobs"] == 1 and sent["prompt"] == "Q: A: 4"
    with pytest.raises(PromptLogprobsUnavailable):  # a chat context cannot be rendered here
        backend.loglikelihood([LoglikelihoodRequest((("user", "hi"),), " 4")])
