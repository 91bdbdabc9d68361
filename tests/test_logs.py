"""harness/logs.py: the quiet flag travels to child processes, and an explicit --verbose clears it."""

from __future__ import annotations

import warnings

from harness.logs import QUIET_ENV, is_quiet, set_verbosity


def test_verbose_wins_over_a_quiet_flag_inherited_from_a_parent(monkeypatch):
    monkeypatch.setenv(QUIET_ENV, "1")  # as a quiet parent process leaves it
    set_verbosity(True)
    assert not is_quiet()


def test_quiet_sets_the_flag_for_child_processes(monkeypatch):
    for name in (QUIET_ENV, "HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS",
                 "TRANSFORMERS_VERBOSITY", "TRANSFORMERS_NO_ADVISORY_WARNINGS"):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    with warnings.catch_warnings():  # quiet_libraries adds warning filters: keep them out of other tests
        set_verbosity(False)
    assert is_quiet()
