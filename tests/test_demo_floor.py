"""benchmarks/demo_floor.py: the arithmetic of the lower bound, checked against sums done by hand."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_floor():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        yield importlib.import_module("demo_floor")
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


def test_flops_per_token_counts_forward_backward_and_the_reference(demo_floor):
    # P = 100 matrix weights, L = 10 LoRA weights.
    assert demo_floor.flops_per_token(100, 10, "sft") == 460      # 2P + 2P + 6L
    assert demo_floor.flops_per_token(100, 10, "dpo") == 680      # 460 + the reference's 2P + 2L
    with pytest.raises(ValueError, match="known: sft, dpo"):
        demo_floor.flops_per_token(100, 10, "ppo")


def test_the_floor_adds_the_measured_stages_to_training_at_the_peak(demo_floor):
    stages = [{"method": "sft", "tokens": 1000, "train_runtime_s": 920.0, "lora_params": 10}]
    # 1,000 tokens x 460 FLOPs at 1,000 FLOP/s (1e-6 GFLOP/s) = 460 s, half of the 920 s measured.
    result = demo_floor.floor(stages, params=100, gflops=1e-6, other_s=100.0, budget_s=330.0)
    assert result["stages"][0]["flops"] == 460_000
    assert result["stages"][0]["floor_s"] == 460.0
    assert result["stages"][0]["achieved_share_of_peak"] == 0.5
    assert result["total_floor_s"] == 560.0
    assert result["training_budget_s"] == 230.0                   # 330 - 100
    assert result["token_share_that_fits_at_peak"] == 0.5         # 230 of 460 s
    assert result["token_share_that_fits_as_measured"] == 0.25    # 230 of 920 s


def test_only_the_stages_that_do_not_train_are_taken_as_measured(demo_floor):
    record = {"setup_s": 116, "stages": {"1/5 suites on the base model": 217, "2/5 SFT (LoRA)": 1507,
                                         "3/5 DPO on the SFT adapter": 631, "4/5 gate: adapter vs base": 204,
                                         "5/5 before/after report": 2}}
    assert demo_floor.other_stages_s(record) == 116 + 217 + 204 + 2
