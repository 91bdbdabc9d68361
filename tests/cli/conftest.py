"""The CLI tests use the gate's adapters and the training tests' data files."""

from tests.gate.conftest import applied_lora, noop_lora  # noqa: F401  (fixtures)
from tests.training.conftest import data_dir, tiny_base  # noqa: F401  (fixtures)
