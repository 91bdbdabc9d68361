"""Which torch device models run on: the CPU unless the user asks for another.

The CPU is the default on purpose: results (and the result cache) stay comparable across
machines, and CI has no GPU. ``ADAPTER_HARNESS_DEVICE=cuda`` moves evaluation and training
onto a GPU; weights stay float32 either way.
"""

from __future__ import annotations

import os

from harness.errors import HarnessError

ENV = "ADAPTER_HARNESS_DEVICE"


def default_device() -> str:
    """``$ADAPTER_HARNESS_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``), else ``cpu``."""
    value = os.environ.get(ENV, "").strip().lower() or "cpu"
    if value.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise HarnessError(f"{ENV}={value!r} is not a device; use cpu, cuda, cuda:N or mps")
    return value
