"""How much the libraries underneath may print."""

from __future__ import annotations

import os

QUIET_ENV = "ADAPTER_HARNESS_QUIET"


def quiet_libraries() -> None:
    """One progress line per stage of ours: the libraries' own bars ("Loading weights"), info logs and
    deprecation warnings stay hidden unless --verbose (set before they are imported)."""
    import warnings

    os.environ[QUIET_ENV] = "1"  # in the environment, so processes started from this one stay quiet too
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # TRL's "Tokenizing train dataset" bars
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    for category in (FutureWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)


def is_quiet() -> bool:
    """Whether :func:`quiet_libraries` ran here or in a process that started this one."""
    return os.environ.get(QUIET_ENV) == "1"


def set_verbosity(verbose: bool) -> None:
    """``--verbose`` or not, for this process and those it starts. An explicit ``--verbose`` wins over the
    quiet flag a quiet parent left in the environment (a benchmark that runs ``harness --verbose train``)."""
    if verbose:
        os.environ.pop(QUIET_ENV, None)
    else:
        quiet_libraries()
