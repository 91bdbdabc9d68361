"""SFT and DPO under `accelerate launch --num_processes 2` (DDP over gloo on the CPU): with the same global batch
(2 per process x 2 = 4 in one process) and data order, the LoRA weights after a few steps agree with a
single-process run within a stated tolerance; the first process alone writes the adapter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import PREF_ROWS, SFT_ROWS, write_jsonl

# max |difference| of any LoRA weight, relative to the largest |weight|. Measured 2026-12-06: SFT 1.3e-6,
# DPO of the same order (float32 sums in another order: gradients are averaged over 2 processes)
TOLERANCE = 1e-4


def recipe(path: Path, base: Path, batch: int, method: str) -> Path:
    path.write_text(f"""\
name: ddp
method: {method}
base_model: {base}
data: [{method}.jsonl]
seed: 0
lora: {{r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}}
train: {{max_steps: 3, batch_size: {batch}, max_length: 48, learning_rate: 5.0e-3, save_steps: 100, logging_steps: 1}}
""")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("method", ["sft", "dpo"])
def test_two_processes_train_the_single_process_adapter(tmp_path, tiny_base, method):
    from safetensors.torch import load_file

    from harness.backends.local_server import free_port

    write_jsonl(tmp_path / "sft.jsonl", SFT_ROWS * 2)  # 8 rows: two global batches of 4
    write_jsonl(tmp_path / "dpo.jsonl", PREF_ROWS * 4)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ADAPTER_HARNESS_STORE": "off"}
    runs = {
        1: [sys.executable, "-m", "harness", "train", str(recipe(tmp_path / "one.yaml", tiny_base, 4, method)),
            "--out", str(tmp_path / "one")],
        2: [str(Path(sys.executable).with_name("accelerate")), "launch", "--multi_gpu", "--num_processes", "2",
            "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
            "--main_process_port", str(free_port()), "-m", "harness", "train",
            str(recipe(tmp_path / "two.yaml", tiny_base, 2, method)), "--out", str(tmp_path / "two")],
    }
    for n, argv in runs.items():
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
        assert done.stdout.count("adapter written to") == 1, done.stdout
    one = load_file(str(tmp_path / "one" / "adapter_model.safetensors"))
    two = load_file(str(tmp_path / "two" / "adapter_model.safetensors"))
    assert one.keys() == two.keys()
    scale = max(float(t.abs().max()) for t in one.values())
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    print(f"largest LoRA weight {scale:.4g}, largest difference {worst:.3g} ({worst / scale:.2e} relative)")
    moved = max(float((one[k]).abs().max()) for k in one if "lora_B" in k)
    assert moved > 0  # the runs trained (LoRA B starts at zero)
    assert worst <= TOLERANCE * scale


@pytest.mark.parametrize("name", ["ddp", "fsdp", "deepspeed_zero2", "cpu2"])
def test_the_shipped_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(Path(__file__).resolve().parents[2] / "training" / "accelerate" / f"{name}.yaml"))
    assert config.num_processes >= 2 and config.num_machines == 1
