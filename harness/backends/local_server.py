"""Start ``transformers serve`` on loopback for a local model directory, and stop it afterwards.

For the serving backend's tests and benchmark, and for trying ``--backend openai-compatible``
without a GPU server: ``transformers serve --host 127.0.0.1 --port P MODEL_DIR`` is exactly the
command it runs (with float32 on the CPU, as everything else here).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.errors import HarnessError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def transformers_serve(model_dir: str | Path, *, port: int | None = None, startup_s: float = 180.0) -> Iterator[str]:
    """Yield the API root (``http://127.0.0.1:PORT/v1``) of a running server; stop it on exit."""
    serve = Path(sys.executable).with_name("transformers")
    if not serve.exists():
        raise HarnessError("transformers serve is not installed: pip install 'transformers[serving]'")
    port = port or free_port()
    log = tempfile.NamedTemporaryFile("w", prefix=f"serve-{port}-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [str(serve), "serve", "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32", "--device", "cpu",
         "--log-level", "warning", str(model_dir)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + startup_s
        while True:
            try:
                urllib.request.urlopen(f"{root}/health", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.time() > deadline:
                    raise HarnessError(f"transformers serve did not start; its log: {log.name}") from None
                time.sleep(0.5)
        yield f"{root}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
