"""Where the shared data sets are: one resolver for every command, and no environment writes.

A data set is looked for, in this order:

1. a path the user wrote (a suite's or recipe's ``data_dir``, relative to that file's folder);
2. its environment variable (relative to the working directory), e.g. ``ADAPTER_HARNESS_TRUTHFULQA``;
3. the checkout's sibling data folder ``<checkout>/../shared/data/<name>``, when it holds the data;
4. nothing (None): the caller falls back to the Hugging Face hub when online, or says how to
   provide the data.

Rows are never committed to this repository; only where to find them is decided here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.paths import resolve_from

CHECKOUT = Path(__file__).resolve().parents[1]  # the repository root of an editable install


@dataclass(frozen=True)
class DataSet:
    name: str
    env: str  # the environment variable that names its folder
    marker: str  # a file the folder must hold to count as this data set


DATASETS = {
    d.name: d
    for d in (
        DataSet("truthfulqa", "ADAPTER_HARNESS_TRUTHFULQA", "generation.jsonl"),
        DataSet("truthfulqa_judge", "ADAPTER_HARNESS_TRUTHFULQA_JUDGE", "truth_dev.jsonl"),
        DataSet("xstest", "ADAPTER_HARNESS_XSTEST", "xstest_prompts_dev.csv"),
    )
}


@dataclass(frozen=True)
class Located:
    path: Path
    origin: str  # how it was found, for messages: 'data_dir', the variable's name, or 'checkout'


def sibling_dir(name: str) -> Path:
    """``<checkout>/../shared/data/<name>``."""
    return CHECKOUT.parent / "shared" / "data" / name


def locate(name: str, explicit: str | Path | None = None, base_dir: str | Path | None = None) -> Located | None:
    """The folder of data set ``name`` (see the module docstring for the order), None if not found.

    An explicit path or a set variable is returned even when the folder is incomplete, so the
    caller's error names what the user pointed at; the checkout's sibling only when it holds
    the data set's marker file.
    """
    dataset = DATASETS[name]
    if explicit:
        return Located(resolve_from(base_dir or Path.cwd(), explicit), "data_dir")
    env = os.environ.get(dataset.env, "").strip()
    if env:
        return Located(Path(env).expanduser().resolve(), dataset.env)
    sibling = sibling_dir(name)
    if (sibling / dataset.marker).is_file():
        return Located(sibling, "checkout")
    return None
