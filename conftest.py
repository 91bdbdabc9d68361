"""Root conftest: `pytest suites/` runs suite YAML files through the adapter-harness plugin."""

pytest_plugins = ["harness.pytest_plugin"]

import os
from pathlib import Path

# The shared TruthfulQA copy sits beside the checkout on this project's machines; elsewhere
# set ADAPTER_HARNESS_TRUTHFULQA (or go online) and the TruthfulQA suite runs too.
_shared = Path(__file__).resolve().parent.parent / "shared" / "data" / "truthfulqa"
if "ADAPTER_HARNESS_TRUTHFULQA" not in os.environ and _shared.is_dir():
    os.environ["ADAPTER_HARNESS_TRUTHFULQA"] = str(_shared)
