"""Shared fixtures. Tests never touch the user's run store or the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _private_run_store(tmp_path, monkeypatch):
    """Each test gets its own run store (runs from tests must not land in ~/.local/share)."""
    if "ADAPTER_HARNESS_STORE" not in os.environ or os.environ["ADAPTER_HARNESS_STORE"] != "off":
        monkeypatch.setenv("ADAPTER_HARNESS_STORE", str(tmp_path / "runs.sqlite3"))


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server for this test session (a throw-away cluster, see tests/pg_cluster.py).

    Skipped when no server is installed, unless ADAPTER_HARNESS_REQUIRE_POSTGRES=1 (``make test``
    installs Debian's postgresql and sets it, so CI never skips these tests silently).
    """
    from tests.pg_cluster import Cluster, server_binaries

    if server_binaries() is None:
        message = "no PostgreSQL server installed (make test installs Debian's postgresql package)"
        if os.environ.get("ADAPTER_HARNESS_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("psycopg", reason="psycopg 3 missing: pip install 'adapter-harness[postgres]'")
    import tempfile

    # Not under pytest's tmp dir: the unprivileged server user must be able to reach it.
    with Cluster(Path(tempfile.mkdtemp(prefix="harness-pg-"))) as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def store_spec(request, tmp_path):
    """A new, empty run store on each engine: an SQLite file, or a new PostgreSQL database (a URL)."""
    if request.param == "sqlite":
        return str(tmp_path / "store" / "runs.sqlite3")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="session")
def embedded_dir():
    """The embedded SmolLM2-135M-Instruct as a plain transformers directory (converted once)."""
    from harness.backends.hf.embedded import ensure_embedded_model

    return ensure_embedded_model(progress=False)


@pytest.fixture(scope="session")
def tokenizer(embedded_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(embedded_dir)


def make_tiny_model(seed: int = 0, hidden: int = 64, layers: int = 2, vocab: int = 49152):
    """A randomly initialised Llama small enough to run in milliseconds.

    A large initializer_range makes its next-token distributions peaked, so numerical
    differences between two ways of computing the same thing are not hidden by flat logits.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.2,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32).eval()
    model.generation_config.eos_token_id = 2
    model.generation_config.pad_token_id = 2
    return model


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tokenizer):
    """A saved tiny random model with the embedded model's tokenizer (a real HF directory)."""
    path = tmp_path_factory.mktemp("tiny-llama")
    make_tiny_model().save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# Fixtures that load or convert a real model, or spawn processes that do: a test using any of
# them (directly or through another fixture) is slow, and `make test-fast` leaves it out.
_MODEL_FIXTURES = {"embedded_dir", "embedded_backend", "tokenizer", "tiny_model_dir", "tiny_base", "applied_lora",
                   "noop_lora", "lora", "pytester"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def fake_openai():
    """The API root of a fake OpenAI-compatible server (tests/fake_openai.py) answering ``Fake.script``."""
    import threading
    from http.server import ThreadingHTTPServer

    from tests.fake_openai import Fake

    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Fake.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
