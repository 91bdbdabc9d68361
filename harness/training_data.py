"""Training data files (JSONL): format detection, line-numbered validation, conversion for TRL.

One JSON object per line; blank lines are ignored. Every row of a file uses one format:

==================  ===========================================  ==========
format              fields                                       used by
==================  ===========================================  ==========
``messages``        ``messages``: [{role, content}, ...]         SFT
``prompt_response`` ``prompt``, ``response``                     SFT
``alpaca``          ``instruction``, ``output``, ``input`` (opt) SFT
``text``            ``text``                                     SFT
``preference``      ``prompt``, ``chosen``, ``rejected``         DPO
``good_bad``        ``prompt``, ``good``, ``bad``                DPO
==================  ===========================================  ==========

Other keys (``id``, ``tags``, ...) are ignored, so rows can carry metadata.

**Bad rows.** A row with broken JSON, a missing or empty field or a wrong type is reported as
``file:line: field: message``; all bad rows are collected and the first ten shown. By default
a file with any bad row is refused (training on silently dropped data is a surprise nobody
wants in a release gate); with ``skip_invalid=True`` (recipe: ``skip_invalid_rows: true``) the
bad rows are dropped and returned as warnings. A file with no valid row is always refused.

**Conversion.** SFT rows become conversational prompt/completion pairs (``prompt`` = every
message before the final assistant turn, ``completion`` = that turn), so TRL applies the
model's chat template and computes the loss on the answer only; ``text`` rows stay plain
language-modelling text. Preference rows become conversational ``prompt``/``chosen``/``rejected``;
an SFT recipe with ``sft_on_chosen: true`` may use them too, each pair teaching its chosen answer.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import SuiteError

MAX_SHOWN = 10  # bad rows listed in one error message
ROLES = ("system", "user", "assistant")


class DataError(SuiteError):
    """A problem in a training data file, located at ``file:line``."""


@dataclass(frozen=True)
class Format:
    name: str
    kind: str  # "sft" or "preference"
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def describe(self) -> str:
        opt = "".join(f" (+{o})" for o in self.optional)
        return "+".join(self.required) + opt


FORMATS = {
    f.name: f
    for f in (
        Format("messages", "sft", ("messages",)),
        Format("prompt_response", "sft", ("prompt", "response")),
        Format("alpaca", "sft", ("instruction", "output"), ("input",)),
        Format("text", "sft", ("text",)),
        Format("preference", "preference", ("prompt", "chosen", "rejected")),
        Format("good_bad", "preference", ("prompt", "good", "bad")),
    )
}
# Keys that identify a format even when other fields of it are missing (most specific first).
_SIGNATURES = (
    ("messages", {"messages"}),
    ("preference", {"chosen", "rejected"}),
    ("good_bad", {"good", "bad"}),
    ("alpaca", {"instruction", "output", "input"}),
    ("prompt_response", {"response"}),
    ("text", {"text"}),
)


@dataclass
class DataFile:
    """A validated data file: converted rows (with their line numbers) and what was skipped."""

    path: Path
    format: str
    rows: list[dict[str, Any]]
    lines: list[int]
    sha256: str
    skipped: list[DataError] = field(default_factory=list)
    chosen_only: bool = False  # preference rows turned into SFT rows (prompt → chosen)

    @property
    def kind(self) -> str:
        return "sft" if self.chosen_only else FORMATS[self.format].kind

    def as_sft(self) -> DataFile:
        """Preference rows as SFT prompt/completion rows that teach the chosen answer."""
        if FORMATS[self.format].kind != "preference":
            return self
        rows = [{"prompt": r["prompt"], "completion": r["chosen"]} for r in self.rows]
        return DataFile(self.path, self.format, rows, self.lines, self.sha256, self.skipped, chosen_only=True)


def signature(row: dict[str, Any]) -> str | None:
    """The format a row's keys point to, or None when no format field is present.

    >>> signature({"instruction": "Add 2 and 3.", "output": "5"})
    'alpaca'
    >>> signature({"prompt": "Hi", "good": "Hello!", "bad": "What."})
    'good_bad'
    >>> signature({"prompt": "Hi"}) is None
    True
    """
    for name, keys in _SIGNATURES:
        if keys & row.keys():
            return name
    return None


def read_data_file(path: str | Path, *, skip_invalid: bool = False, display: str | None = None) -> DataFile:
    """Parse, validate and convert one JSONL file (see the module docstring for the rules).

    ``display`` is the name used in messages (default: the path as given).
    """
    path = Path(path)
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(shown, None, None, f"cannot read training data: {exc.strerror}") from None
    parsed: list[tuple[int, dict[str, Any]]] = []
    errors: list[DataError] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            errors.append(DataError(shown, number, None, "not UTF-8 text; re-save the file as UTF-8"))
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            errors.append(DataError(shown, number, None, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            errors.append(DataError(shown, number, None, f"each line must be a JSON object, got {_type(obj)}"))
            continue
        parsed.append((number, obj))
    if not parsed:
        if not errors:
            raise DataError(shown, None, None, "no rows: the file is empty; write one JSON object per line")
        raise _combined(errors, shown, no_valid=True, fmt=None)
    fmt = _file_format(parsed, shown)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, obj in parsed:
        row_errors = _validate(obj, fmt, shown, number)
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(_convert(obj, fmt.name))
            lines.append(number)
    errors.sort(key=lambda e: e.line or 0)
    if errors and (not skip_invalid or not rows):
        raise _combined(errors, shown, no_valid=not rows, fmt=fmt)
    return DataFile(path, fmt.name, rows, lines, hashlib.sha256(raw).hexdigest(), errors)


def row_tags(data: DataFile) -> list[list[str]]:
    """Each converted row's ``tags`` (conversion keeps only what training reads), [] where none."""
    raw = data.path.read_text(encoding="utf-8").splitlines()
    return [list(json.loads(raw[line - 1]).get("tags") or []) for line in data.lines]


def prompt_texts(data: DataFile) -> list[tuple[int, str]]:
    """(line, user-visible prompt) of each valid row: what a hold-out check compares with suites."""
    out = []
    for line, row in zip(data.lines, data.rows, strict=True):
        if "text" in row:
            out.append((line, row["text"]))
        else:  # SFT and preference rows alike start with the conversational prompt
            user = [m["content"] for m in row["prompt"] if m["role"] == "user"]
            out.append((line, "\n".join(user)))
    return out


# ------------------------------------------------------------------ validation


def _file_format(parsed: list[tuple[int, dict[str, Any]]], shown: str) -> Format:
    """The format most rows use (ties: the earliest); rows without any format key cannot decide."""
    votes = Counter(s for _, obj in parsed if (s := signature(obj)))
    if not votes:
        line, obj = parsed[0] if parsed else (1, {})
        known = "; ".join(f"{f.name}: {f.describe()}" for f in FORMATS.values())
        keys = ", ".join(sorted(obj)) or "none"
        raise DataError(shown, line, None, f"cannot tell the data format from the keys ({keys}); use one of — {known}")
    best = max(votes.values())
    first = next(s for _, obj in parsed if (s := signature(obj)) and votes[s] == best)
    return FORMATS[first]


def _validate(obj: dict[str, Any], fmt: Format, shown: str, line: int) -> list[DataError]:
    sig = signature(obj)
    if sig is not None and sig != fmt.name:
        other = FORMATS[sig]
        return [DataError(shown, line, None, (
            f"this row is '{other.name}' ({other.describe()}) but the file is '{fmt.name}' ({fmt.describe()}); "
            "all rows of a file must use one format — split it into two files"))]
    errors = []
    for name in fmt.required:
        if name == "messages":
            errors.extend(_check_messages(obj.get("messages"), "messages" in obj, shown, line))
        else:
            problem = _text_problem(obj, name)
            if problem:
                errors.append(DataError(shown, line, name, problem))
    for name in fmt.optional:  # optional text: may be absent, null or empty, but not another type
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            errors.append(DataError(shown, line, name, f"must be a string (or left out), got {_type(value)}"))
    if not errors and fmt.kind == "preference":
        good, bad = fmt.required[1], fmt.required[2]
        if obj[good].strip() == obj[bad].strip():
            errors.append(DataError(shown, line, bad, f"is identical to '{good}'; a preference pair needs two different answers"))
    return errors


def _text_problem(obj: dict[str, Any], name: str) -> str | None:
    if name not in obj:
        return "required field is missing; add it"
    value = obj[name]
    if not isinstance(value, str):
        return f"must be a string, got {_type(value)}"
    if not value.strip():
        return "must not be empty"
    return None


def _check_messages(value: Any, present: bool, shown: str, line: int) -> list[DataError]:
    def err(where: str, message: str) -> DataError:
        return DataError(shown, line, where, message)

    if not present:
        return [err("messages", "required field is missing; add it")]
    if not isinstance(value, list):
        return [err("messages", f"must be a list of {{role, content}} objects, got {_type(value)}")]
    if not value:
        return [err("messages", "must not be empty")]
    errors = []
    for i, msg in enumerate(value):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            errors.append(err(where, f"must be an object with 'role' and 'content', got {_type(msg)}"))
            continue
        role = msg.get("role")
        if "role" not in msg:
            errors.append(err(f"{where}.role", "required field is missing; add it"))
        elif role not in ROLES:
            errors.append(err(f"{where}.role", f"must be one of {', '.join(ROLES)}, got {role!r}"))
        problem = _text_problem(msg, "content")
        if problem:
            errors.append(err(f"{where}.content", problem))
    if errors:
        return errors
    if value[-1]["role"] != "assistant":
        errors.append(err(f"messages[{len(value) - 1}].role", "the last message must be the assistant's answer to learn"))
    if not any(m["role"] == "user" for m in value[:-1]):
        errors.append(err("messages", "needs a user message before the final assistant message"))
    return errors


def _combined(errors: list[DataError], shown: str, no_valid: bool, fmt: Format | None) -> DataError:
    first = errors[0]
    rest = [str(e) for e in errors[1:MAX_SHOWN]]
    if len(errors) > MAX_SHOWN:
        rest.append(f"... and {len(errors) - MAX_SHOWN} more bad rows ({len(errors)} in total)")
    if no_valid:
        what = f" (format '{fmt.name}': {fmt.describe()})" if fmt else ""
        rest.append(f"{shown}: no valid rows{what}; the file cannot be used")
    else:
        rest.append(f"{shown}: fix these rows, or set 'skip_invalid_rows: true' in the recipe to train without them")
    return DataError(first.path, first.line, first.field, "\n".join([first.message, *rest]))


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# ------------------------------------------------------------------ conversion


def _user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _convert(obj: dict[str, Any], fmt: str) -> dict[str, Any]:
    if fmt == "messages":
        msgs = [{"role": m["role"], "content": m["content"]} for m in obj["messages"]]
        return {"prompt": msgs[:-1], "completion": msgs[-1:]}
    if fmt == "prompt_response":
        return {"prompt": _user(obj["prompt"]), "completion": _assistant(obj["response"])}
    if fmt == "alpaca":
        extra = (obj.get("input") or "").strip()
        text = obj["instruction"].strip() + (f"\n\n{extra}" if extra else "")
        return {"prompt": _user(text), "completion": _assistant(obj["output"])}
    if fmt == "text":
        return {"text": obj["text"]}
    good, bad = ("chosen", "rejected") if fmt == "preference" else ("good", "bad")
    return {"prompt": _user(obj["prompt"]), "chosen": _assistant(obj[good]), "rejected": _assistant(obj[bad])}
