"""Read a suite file into a validated :class:`~harness.schema.Suite`.

YAML is parsed with the safe loader (data only: tags that construct objects are
refused). While parsing we record the line of every mapping key and list item, so a
pydantic error at ``cases.3.checks.0`` is reported as ``suites/x.yaml:41: ...``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from harness.errors import HarnessError, SuiteError, did_you_mean, quote_hint
from harness.schema import Case, Suite, lm_eval_task_of
from harness.sources import SOURCES, SourceUnavailable, load_sources

Loc = tuple[Any, ...]


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


def read_yaml(path: Path) -> tuple[Any, dict[Loc, int]]:
    """YAML → (plain data, {path-in-data: 1-based line})."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SuiteError(path, None, None, f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SuiteError(
            path, line, None, f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); re-save it with UTF-8 encoding"
        ) from None
    if len(raw) > MAX_BYTES:
        raise SuiteError(path, None, None, f"file is {len(raw):,} bytes, more than a suite may be ({MAX_BYTES:,})")
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise SuiteError(path, None, None, f"YAML nested too deeply (more than {MAX_DEPTH} levels)") from None
        if node is None:
            raise SuiteError(path, 1, None, "file is empty; a suite needs 'name', 'cases' and 'thresholds'")
        _check_size(node, path)
        lines: dict[Loc, int] = {}
        return _build(loader, node, (), lines, path), lines
    except yaml.MarkedYAMLError as exc:
        # An unclosed '[', '{' or quote is fixed where it opened, so point there and say where it was
        # noticed; for block structure the problem mark is the place to look.
        noticed = exc.problem_mark
        opened = exc.context_mark if re.search(r"flow|quoted", exc.context or "") else None
        mark = opened or noticed or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        if opened and noticed and noticed.line != opened.line:
            problem += f" (noticed at line {noticed.line + 1})"
        raise SuiteError(path, line, None, f"invalid YAML: {problem}; check indentation and quoting") from None
    except yaml.YAMLError as exc:
        raise SuiteError(path, None, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()


# Limits on what a suite file may expand to: a few hundred bytes of nested aliases ("billion
# laughs") would otherwise become gigabytes when constructed. Shipped suites use < 10,000 nodes.
MAX_BYTES = 10_000_000
MAX_NODES = 1_000_000
MAX_DEPTH = 64


def _check_size(root: yaml.Node, path: Path) -> None:
    """Refuse a document whose aliases expand past MAX_NODES or that nests deeper than MAX_DEPTH,
    measured on the composed graph (aliases are shared nodes there) without expanding anything."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else \
            list(node.value) if isinstance(node, yaml.SequenceNode) else []
        if not done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in size)
            continue
        size[id(node)] = 1 + sum(size.get(id(c), 0) for c in children)
        depth[id(node)] = 1 + max((depth.get(id(c), 0) for c in children), default=0)
        if size[id(node)] > MAX_NODES:
            raise SuiteError(path, node.start_mark.line + 1, None,
                             f"YAML expands to more than {MAX_NODES:,} values (aliases repeated inside aliases?); "
                             "refusing to build it")
        if depth[id(node)] > MAX_DEPTH:
            raise SuiteError(path, node.start_mark.line + 1, None, f"YAML nested too deeply (more than {MAX_DEPTH} levels)")


_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")}


def _build(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int], path: Path) -> Any:
    lines[loc] = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        raise SuiteError(path, node.start_mark.line + 1, _field(loc), f"YAML tag {node.tag} is not allowed; suites are plain data")
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves '<<' merge keys
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)):
                raise SuiteError(path, key_node.start_mark.line + 1, None, "mapping keys must be plain text")
            if key in out:
                raise SuiteError(
                    path, key_node.start_mark.line + 1, _field(loc + (key,)),
                    f"duplicate key (first at line {lines[loc + (key,)]}); keep one",
                )
            lines[loc + (key,)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, loc + (key,), lines, path)
            lines[loc + (key,)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, loc + (i,), lines, path) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        raise SuiteError(path, node.start_mark.line + 1, _field(loc), f"unsupported value: {exc.problem}") from None


def _line_of(lines: dict[Loc, int], loc: Loc) -> int:
    """The line of ``loc`` or of its nearest recorded ancestor."""
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _field(loc: Loc, data: Any = None) -> str:
    """'cases[3] (pipe-bomb).checks[0]' from ('cases', 3, 'checks', 0)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            if isinstance(node, list) and part < len(node):
                node = node[part]
                if isinstance(node, dict) and isinstance(node.get("id"), str) and out.startswith("cases"):
                    out += f" ({node['id']})"
            else:
                node = None
        else:
            out += ("." if out else "") + str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


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
