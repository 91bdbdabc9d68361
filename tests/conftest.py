"""Shared fixtures. Tests never touch the user's run store or the network."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _private_run_store(tmp_path, monkeypatch):
    """Each test gets its own run store (runs from tests must not land in ~/.local/share)."""
    if "ADAPTER_HARNESS_STORE" not in os.environ or os.environ["ADAPTER_HARNESS_STORE"] != "off":
        monkeypatch.setenv("ADAPTER_HARNESS_STORE", str(tmp_path / "runs.sqlite3"))
