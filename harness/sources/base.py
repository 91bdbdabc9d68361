"""Case sources' extension point: the registry, the spec and the error (no sources here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness.errors import HarnessError
from harness.registry import Registry


class SourceUnavailable(HarnessError):
    """The data behind a source cannot be found; the message says how to provide it."""


@dataclass(frozen=True)
class SourceSpec:
    name: str
    params: type[BaseModel]
    # load(params, suite_dir) -> raw case mappings (id, prompt, tags, checks, ...)
    load: Callable[[Any, Path], list[dict[str, Any]]]


SOURCES: Registry[SourceSpec] = Registry("case source")


def source(name: str, params: type[BaseModel]) -> Callable:
    def register(fn: Callable[[Any, Path], list[dict[str, Any]]]) -> Callable:
        SOURCES.add(name, SourceSpec(name, params, fn))
        return fn

    return register
