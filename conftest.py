"""Root conftest: `pytest suites/` runs suite YAML files through the adapter-harness plugin.

The plugin is also registered by the package's pytest11 entry point (any project that installs
adapter-harness collects its suites); naming it here keeps a bare checkout working. Data sets
(TruthfulQA beside the checkout, or $ADAPTER_HARNESS_TRUTHFULQA) are found by harness.data_paths.
"""

pytest_plugins = ["harness.pytest_plugin"]

# Alembic's env.py and revision files run only inside Alembic (harness/store/migrate.py): importing them
# for --doctest-modules would fail, and they hold no doctests.
collect_ignore_glob = ["harness/store/migrations/*"]
