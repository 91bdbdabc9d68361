"""A name → object registry whose lookup errors suggest the closest names."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

from harness.errors import HarnessError, did_you_mean

T = TypeVar("T")


def _origin(item: object) -> tuple[str, str]:
    """Where an entry was defined: the module and name of its function (or of its type)."""
    fn = getattr(item, "fn", None) or getattr(item, "load", None) or item
    return getattr(fn, "__module__", ""), getattr(fn, "__qualname__", type(fn).__qualname__)


class Registry(Generic[T]):
    """Holds named extension objects (scorers, case sources).

    >>> r = Registry("scorer")
    >>> _ = r.add("contains", 1)
    >>> r.get("contains")
    1
    >>> r.get("containz")
    Traceback (most recent call last):
    ...
    harness.errors.HarnessError: unknown scorer 'containz' — did you mean 'contains'? known: contains
    """

    def __init__(self, kind: str, builtins: str | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        # The module that registers the built-in entries, imported on the first lookup: the registry
        # lives in the core layer, its entries (scorers, sources) in the layers above, found by name
        # the way pytest finds its plugins.
        self._builtins = builtins

    def add(self, name: str, item: T) -> T:
        if name in self._items and _origin(self._items[name]) != _origin(item):
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        # The same definition again is its module imported a second time (pytest's in-process
        # runs drop and re-import modules): the newer object replaces the older.
        self._items[name] = item
        return item

    def _load_builtins(self) -> None:
        if self._builtins is not None:
            module, self._builtins = self._builtins, None
            importlib.import_module(module)

    def get(self, name: str) -> T:
        self._load_builtins()
        try:
            return self._items[name]
        except KeyError:
            raise HarnessError(f"unknown {self.kind} {name!r} — {did_you_mean(name, self._items)}") from None

    def __contains__(self, name: object) -> bool:
        self._load_builtins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        self._load_builtins()
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        self._load_builtins()
        return sorted(self._items)
