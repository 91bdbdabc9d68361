"""The device setting: CPU unless ADAPTER_HARNESS_DEVICE names another, typos refused."""

import pytest

from harness.device import ENV, default_device
from harness.errors import HarnessError


def test_cpu_by_default(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert default_device() == "cpu"


@pytest.mark.parametrize("value,expected", [("cuda", "cuda"), (" CUDA:1 ", "cuda:1"), ("mps", "mps"), ("", "cpu")])
def test_env_names_the_device(monkeypatch, value, expected):
    monkeypatch.setenv(ENV, value)
    assert default_device() == expected


def test_a_typo_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(ENV, "gpu")
    with pytest.raises(HarnessError, match=r"ADAPTER_HARNESS_DEVICE='gpu' is not a device; use cpu, cuda"):
        default_device()


def test_training_uses_the_cpu_unless_told_otherwise(monkeypatch, tmp_path):
    from harness.training.recipes import Recipe

    recipe = Recipe.model_validate({"method": "sft", "data": ["x.jsonl"]})
    monkeypatch.delenv(ENV, raising=False)
    assert recipe.trainer_args(tmp_path).use_cpu is True


def test_returning_freed_memory_is_opt_in(monkeypatch):
    import sys

    from harness.device import return_freed_memory

    monkeypatch.delenv("ADAPTER_HARNESS_MALLOC", raising=False)
    assert return_freed_memory() is False
    monkeypatch.setenv("ADAPTER_HARNESS_MALLOC", "release")
    assert return_freed_memory() is sys.platform.startswith("linux")  # this project's machines run glibc


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's malloc_trim")
def test_trimming_the_heap_returns_freed_pages():
    import subprocess
    import sys

    # In a fresh interpreter, so the heap's layout is known (a long test process reuses old free
    # chunks). 48 KiB blocks stay under glibc's mmap threshold (128 KiB), so they live on the heap;
    # a small live block after each keeps glibc from shrinking the heap from the top by itself.
    code = """
import os
from harness.device import trim_heap
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
blocks, pins = [], []
for _ in range(4000):  # ~190 MiB, zeroed, so resident
    blocks.append(bytearray(48 * 1024))
    pins.append(bytearray(1024))
held = rss()
del blocks
kept = rss()
trim_heap()
print(held, kept, rss())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    held, freed_but_kept, after = map(float, out.split())
    assert held - freed_but_kept < 50 and freed_but_kept - after > 150, (held, freed_but_kept, after)


def _child_report(x: int) -> tuple[int, int, bool]:
    import os
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.warn("hidden?", FutureWarning)
    return x * 2, os.getpid(), not seen


def _child_fails() -> None:
    raise HarnessError("from the child")


def test_a_fresh_process_returns_its_result_and_keeps_the_warning_filters():
    import os
    import warnings

    from harness.device import in_fresh_process

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        doubled, pid, hidden = in_fresh_process(_child_report, 21)
    assert (doubled, hidden) == (42, True)
    assert pid != os.getpid()
    with pytest.raises(HarnessError, match="from the child"):
        in_fresh_process(_child_fails)


def test_a_child_that_dies_is_an_error_that_says_so():
    import os

    from harness.device import in_fresh_process

    with pytest.raises(HarnessError, match=r"the process running _exit ended abruptly \(killed"):
        in_fresh_process(os._exit, 9)
