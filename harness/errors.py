"""User-facing errors: one line that names the file, the line, the field and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class HarnessError(Exception):
    """An error caused by user input (a suite file, an option, a data file).

    The CLI and the pytest plugin print ``str(error)`` alone, without a traceback.
    """


class SuiteError(HarnessError):
    """A problem in a suite file, located at ``file:line``."""

    def __init__(self, path: str | Path, line: int | None, field: str | None, message: str):
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        what = f"{field}: {message}" if field else message
        super().__init__(f"{where}: {what}")


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A hint listing the closest known names, then all of them.

    >>> did_you_mean("containz", ["contains", "regex", "length"])
    "did you mean 'contains'? known: contains, length, regex"
    >>> did_you_mean("zzz", ["a", "b"])
    'known: a, b'
    """
    known = sorted(set(known))
    close = difflib.get_close_matches(word, known, n=2, cutoff=0.6)
    listing = "known: " + ", ".join(known)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " + listing
    return listing


def quote_hint(err: dict) -> str:
    """The fix for a pydantic string error on a value that YAML read as a number or a boolean.

    >>> quote_hint({"type": "string_type", "input": 911})
    ": YAML read 911 as a number; quote it: '911'"
    >>> quote_hint({"type": "string_type", "input": True})
    ": YAML read yes/on/true as a boolean; quote it: 'yes'"
    """
    value = err.get("input")
    if err.get("type") not in ("string_type", "literal_error") or not isinstance(value, (bool, int, float)):
        return ""
    if isinstance(value, bool):
        words = "yes/on/true" if value else "no/off/false"
        return f": YAML read {words} as a boolean; quote it: '{'yes' if value else 'no'}'"
    return f": YAML read {value} as a number; quote it: '{value}'"
