"""Read a suite file into a validated :class:`~harness.schema.Suite`, and find suite files.

The YAML is read by :mod:`harness.yaml_safe` (data only, bounded, with the line of every key),
so a pydantic error at ``cases.3.checks.0`` is reported as ``suites/x.yaml:41: ...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError, SuiteError, did_you_mean, quote_hint
from harness.schema import Case, Suite, lm_eval_task_of
from harness.sources import SOURCES, SourceUnavailable, load_sources
from harness.yaml_safe import Loc, _field, _line_of, read_yaml


def load_suite(path: str | Path) -> Suite:
    """Parse, validate and expand (case sources) one suite file."""
    path = Path(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise SuiteError(path, 1, None, "a suite file is a mapping with 'name', 'cases' and 'thresholds'")
    if "source" in data:
        load_sources()  # before validation, so an unknown source name can be reported
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, path, lines, data) from None
    suite._path = str(path)
    for i, case in enumerate(suite.cases):
        case._line = _line_of(lines, ("cases", i))
    for i, threshold in enumerate(suite.thresholds):
        threshold._line = _line_of(lines, ("thresholds", i))
    for i, entry in enumerate(suite.lm_eval):
        entry._line = _line_of(lines, ("lm_eval", i))
    if suite.source:
        _expand_source(suite, path, _line_of(lines, ("source",)))
    _check_cases(suite, path, lines)
    return suite


def _located(exc: ValidationError, path: Path, lines: dict[Loc, int], data: Any) -> SuiteError:
    errors = []
    for err in exc.errors():
        loc = _trim_loc(err["loc"], data)
        msg = _message(err, loc)
        errors.append(SuiteError(path, _line_of(lines, loc), _field(loc, data), msg))
    errors.sort(key=lambda e: e.line or 0)
    first = errors[0]
    if len(errors) > 1:
        more = "\n".join(str(e) for e in errors[1:])
        first = SuiteError(path, first.line, first.field, f"{first.message}\n{more}")
    return first


def _trim_loc(loc: Loc, data: Any) -> Loc:
    """Keep the parts of a pydantic loc that index the data (it adds type names for unions)."""
    kept: list[Any] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif i < len(loc) - 1:
            continue
        else:
            node = None
        kept.append(part)
    return tuple(kept)


def _message(err: dict, loc: Loc) -> str:
    kind = err["type"]
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1])
        return f"unknown field '{loc[-1]}' — {did_you_mean(str(loc[-1]), known)}"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error":
        return f"{msg} (got {err.get('input')!r})"
    return msg + quote_hint(err)


def _known_fields(loc: Loc) -> list[str]:
    """Field names of the model at ``loc`` (for 'did you mean' on unknown fields)."""
    from harness.schema import Generation, LmEvalTask, Message, Threshold

    names = [p for p in loc if isinstance(p, str)]
    model: type[BaseModel] = Suite
    table = {"cases": Case, "thresholds": Threshold, "generation": Generation, "messages": Message, "lm_eval": LmEvalTask}
    for name in names:
        model = table.get(name, model)
    return list(model.model_fields)


def _expand_source(suite: Suite, path: Path, line: int) -> None:
    (name, params), = suite.source.items()
    try:
        spec = SOURCES.get(name)
    except Exception as exc:
        raise SuiteError(path, line, "source", str(exc)) from None
    try:
        parsed = spec.params.model_validate(params or {})
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {_message(e, e['loc'])}" for e in exc.errors())
        raise SuiteError(path, line, f"source.{name}", bad) from None
    try:
        raw_cases = spec.load(parsed, path.parent)
    except SourceUnavailable as exc:
        suite._skip_reason = str(exc)
        return
    cases = []
    for raw in raw_cases:
        try:
            case = Case.model_validate(raw)
        except ValidationError as exc:  # a bug in the source, not the user's YAML
            raise SuiteError(path, line, f"source.{name}", f"produced an invalid case {raw.get('id')!r}: {exc}") from None
        case._line = line
        cases.append(case)
    suite.cases = [*suite.cases, *cases]


def _check_lm_eval_threshold(path: Path, i: int, th: Any, task: str, tasks: list[str]) -> None:
    """'<task>/<metric>' names a task listed under 'lm_eval:'; its metric is known only after the run."""
    if task not in tasks:
        hint = did_you_mean(task, tasks) if tasks else "the suite lists no tasks; add one under 'lm_eval:'"
        raise SuiteError(
            path, th.line, f"thresholds[{i}].metric",
            f"'{th.metric}' names lm-eval task '{task}', which is not under 'lm_eval:' — {hint}",
        )
    if not th.metric.partition("/")[2]:
        raise SuiteError(path, th.line, f"thresholds[{i}].metric", f"'{th.metric}' names no metric; write '{task}/acc'")
    if th.tag is not None:
        raise SuiteError(path, th.line, f"thresholds[{i}].tag", "lm-eval metrics have no case tags; remove 'tag'")


def _check_cases(suite: Suite, path: Path, lines: dict[Loc, int]) -> None:
    """Whole-suite rules pydantic cannot see: ids unique, cases exist, thresholds name real metrics and tags."""
    if not suite.cases and not suite.lm_eval and suite.skip_reason is None:
        raise SuiteError(
            path, _line_of(lines, ("cases",)), "cases",
            "the suite has no cases; add at least one under 'cases:' (or lm-eval tasks under 'lm_eval:')",
        )
    listed: dict[str, int] = {}
    for i, entry in enumerate(suite.lm_eval):
        if entry.task in listed:
            raise SuiteError(
                path, entry.line, f"lm_eval[{i}].task",
                f"'{entry.task}' is listed twice (first at line {listed[entry.task]}); its metrics would collide",
            )
        listed[entry.task] = entry.line
    seen: dict[str, int] = {}
    for case in suite.cases:
        if case.id in seen:
            raise SuiteError(path, case.line, f"case {case.id!r}", f"duplicate case id (first at line {seen[case.id]}); ids must be unique")
        seen[case.id] = case.line
        if not suite.checks_for(case):
            raise SuiteError(path, case.line, f"case {case.id!r}", "no checks; add one under 'checks:' (or 'default_checks:' for the suite)")
    if suite.skip_reason is not None:
        return  # without its data we cannot know which metrics and tags the cases will have
    metrics = suite.metric_names()
    tags = {t for c in suite.cases for t in c.tags}
    tasks = [entry.task for entry in suite.lm_eval]
    for i, th in enumerate(suite.thresholds):
        task = lm_eval_task_of(th.metric)
        if task is not None:
            _check_lm_eval_threshold(path, i, th, task, tasks)
            continue
        if th.metric not in metrics:
            raise SuiteError(
                path, th.line, f"thresholds[{i}].metric",
                f"unknown metric '{th.metric}' for this suite's checks — {did_you_mean(th.metric, metrics)}",
            )
        if th.tag is not None and th.tag not in tags:
            raise SuiteError(path, th.line, f"thresholds[{i}].tag", f"no case has tag '{th.tag}' — {did_you_mean(th.tag, tags)}")


def suite_allowed_missing(suite: Suite, allowed: Sequence[str]) -> bool:
    """Whether ``--allow-missing`` names this suite (by name or by path)."""
    return any(a in (suite.name, suite.path, str(suite.path)) for a in allowed)


def find_suites(paths: Sequence[str]) -> list[Path]:
    """Suite files named directly, or every *.yaml / *.yml below the named directories."""
    found: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            found.append(path)
        else:
            raise HarnessError(f"{name}: no such suite file or directory")
    if not found:
        raise HarnessError(f"no suite files (*.yaml) under {', '.join(paths)}")
    return found


def load_suites(paths: Sequence[str]) -> list[Suite]:
    return [load_suite(p) for p in find_suites(paths)]
