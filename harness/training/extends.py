"""``extends: other.yaml``: a recipe written as the changes it makes to another.

An experiment usually changes a seed, a learning rate or one switch of a shipped recipe; copying the
whole file made each copy drift from the recipe it was meant to vary. With ``extends``, the other
recipe (a path relative to this one) is read first and this file's keys override it: mappings
(``lora``, ``train``, ``dpo``, ``reward``) key by key, everything else (``data`` included) whole.
Relative paths the other recipe holds (data files, ``init_adapter``) keep pointing where they
pointed. A recipe may extend one that extends another; a cycle is an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from harness.errors import SuiteError
from harness.paths import resolve_from
from harness.yaml_safe import read_yaml

_SECTIONS = ("lora", "train", "dpo", "reward")


def extended(data: dict[str, Any], path: Path, lines: dict, sources: tuple[str, ...] = (),
             seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """``data`` (read from ``path``) merged over the recipe its ``extends`` names, if it names one.

    ``sources``: data entries that name a data source, not a file (they are not paths to rebase)."""
    if "extends" not in data:
        return data
    data = dict(data)
    ref = data.pop("extends")
    line = lines.get(("extends",), 1)
    if not isinstance(ref, str) or not ref.strip():
        raise SuiteError(path, line, "extends", "give the path of the recipe this one changes, relative to this file")
    base_path = resolve_from(path.parent, ref)
    if not base_path.is_file():
        raise SuiteError(path, line, "extends", f"no recipe at {base_path}")
    seen = seen | {path.resolve()}
    if base_path.resolve() in seen:
        raise SuiteError(path, line, "extends", f"{ref} extends this recipe again (a cycle)")
    base, base_lines = read_yaml(base_path)
    if not isinstance(base, dict):
        raise SuiteError(base_path, 1, None, "a recipe is a mapping with at least 'method' and 'data'")
    base = _rebased(extended(base, base_path, base_lines, sources, seen), base_path.parent, path.parent, sources)
    merged = dict(base)
    for key, value in data.items():
        if key in _SECTIONS and isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = {**base[key], **value}
        else:
            merged[key] = value
    return merged


def _rebased(data: dict[str, Any], src: Path, dst: Path, sources: tuple[str, ...]) -> dict[str, Any]:
    """The relative paths of a recipe in ``src``, rewritten to mean the same from ``dst``."""

    def move(p: Any) -> Any:
        if not isinstance(p, str) or p in sources or Path(p).expanduser().is_absolute():
            return p
        return os.path.relpath(src / p, dst)

    out = dict(data)
    if isinstance(out.get("data"), list):
        out["data"] = [move(item) for item in out["data"]]
    if "init_adapter" in out:
        out["init_adapter"] = move(out["init_adapter"])
    return out
