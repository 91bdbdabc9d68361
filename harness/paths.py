"""Paths written in a YAML file are relative to that file's folder, wherever harness runs from."""

from __future__ import annotations

from pathlib import Path


def resolve_from(base_dir: str | Path, path: str | Path) -> Path:
    """``path`` with ``~`` expanded, joined to ``base_dir`` unless it is absolute.

    >>> resolve_from("/suites", "../data/rows.jsonl").as_posix()
    '/suites/../data/rows.jsonl'
    >>> resolve_from("/suites", "/abs/rows.jsonl").as_posix()
    '/abs/rows.jsonl'
    """
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else Path(base_dir) / resolved
