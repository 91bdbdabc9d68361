"""YAML read safely, with the line of every key: for suites and recipes alike.

The safe loader builds data only (tags that construct objects are refused). Hostile input is
bounded before anything is built: at most MAX_BYTES of text, MAX_NODES values after alias
expansion (an alias bomb is refused in milliseconds), MAX_DEPTH levels of nesting. While
building, the line of every mapping key and list item is recorded, keyed by its path in the data.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SuiteError

Loc = tuple[Any, ...]


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
