"""Root conftest: `pytest suites/` runs suite YAML files through the adapter-harness plugin."""

pytest_plugins = ["harness.pytest_plugin"]
