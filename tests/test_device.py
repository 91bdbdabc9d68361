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
