"""Which torch device models run on: the CPU unless the user asks for another.

The CPU is the default on purpose: results (and the result cache) stay comparable across
machines, and CI has no GPU. ``ADAPTER_HARNESS_DEVICE=cuda`` moves evaluation and training
onto a GPU; weights stay float32 either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from harness.errors import HarnessError

T = TypeVar("T")

ENV = "ADAPTER_HARNESS_DEVICE"


def default_device() -> str:
    """``$ADAPTER_HARNESS_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``), else ``cpu``."""
    value = os.environ.get(ENV, "").strip().lower() or "cpu"
    if value.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise HarnessError(f"{ENV}={value!r} is not a device; use cpu, cuda, cuda:N or mps")
    return value


def _glibc_call(name: str, *args: int) -> bool:
    """``libc.<name>(*args)`` on Linux; False where there is no such function (musl, macOS, Windows)."""
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(getattr(libc, name)(*args))
    except (OSError, AttributeError):
        return False


def trim_heap() -> bool:
    """Hand the heap's free pages back to the OS (glibc ``malloc_trim``); call it between stages.

    A stage's tensors are freed when it ends, but glibc keeps the pages for reuse, so the next stage
    starts from the last one's high-water mark and adds its own on top (the demo's DPO started at
    3.5 GB after the SFT). Trimming once per stage costs milliseconds, not the per-allocation price
    of ``return_freed_memory``. Returns whether anything was released; False off glibc.
    """
    import gc

    gc.collect()
    return _glibc_call("malloc_trim", 0)


def in_fresh_process(fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(*args, **kwargs)`` run in a new Python process; its return value (or exception) comes back pickled.

    For memory: everything the child allocated goes back to the OS when it exits. A stage that
    loads a model leaves ~0.3 GB behind in its process even after the model is freed and the heap
    trimmed (native library caches and fragmentation; the demo's base-model stage, measured in
    docs/performance.md), and the next stage would add its own peak on top. The child is spawned,
    not forked (a fork would share torch's thread pools and copy this process's pages) and gets this
    process's warning filters, so ``--verbose`` or its absence holds there too. ``fn`` must be
    importable (a module-level function) and its arguments picklable.
    """
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(1, mp_context=context, initializer=_set_warning_filters,
                                 initargs=(list(warnings.filters),)) as pool:
            # leaving the block waits for the child to exit, so its output is flushed before ours goes on
            return pool.submit(fn, *args, **kwargs).result()
    except BrokenProcessPool:
        raise HarnessError(f"the process running {getattr(fn, '__name__', fn)} ended abruptly (killed, e.g. "
                           "by the kernel when memory ran out: see `dmesg`)") from None


def _set_warning_filters(filters: list) -> None:
    import warnings

    warnings.filters[:] = filters


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt() parameter numbers (malloc.h)


def return_freed_memory() -> bool:
    """With ``ADAPTER_HARNESS_MALLOC=release``, make glibc give freed memory back to the OS at once.

    Opt-in, because it trades time for memory. glibc serves blocks above a *sliding* threshold
    (up to 32 MiB) from its heap and keeps them after they are freed, so the activations of the
    longest training batches stay resident. With every block of 64 KiB or more mapped (and
    unmapped on free), the peak RSS of the demo SFT's first steps fell from 4,062 to 3,291 MiB,
    but each step took about twice as long: fresh pages are faulted in and zeroed on every
    allocation (measured, docs/performance.md). For a runner short of memory, not for speed.
    Same as ``MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=0``. Returns whether it applied.
    """
    if os.environ.get("ADAPTER_HARNESS_MALLOC", "").strip().lower() != "release":
        return False
    return _glibc_call("mallopt", _M_MMAP_THRESHOLD, 64 * 1024) and _glibc_call("mallopt", _M_TRIM_THRESHOLD, 0)
