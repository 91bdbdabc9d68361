"""``docs/cli.md``, generated from the argparse parsers so the reference cannot drift from the code.

Regenerate with ``python -m harness.cli.reference > docs/cli.md`` (or ``make docs``); a test
fails when the committed file differs from what the parsers say.
"""

from __future__ import annotations

import argparse
import sys

HEADER = """\
# Command reference

Generated from the argparse parsers by `python -m harness.cli.reference > docs/cli.md`
(`make docs`); `tests/cli/test_reference.py` fails when this file is stale.

Exit codes: 0 pass, 1 a suite or threshold failed (or `validate` found errors), 2 a bad input
(nothing was evaluated), 3 evaluated but the run could not be stored, 130 interrupted.
The pytest plugin's options (`pytest suites/ --model ... --adapter ... --baseline ...`) are
listed by `pytest --help` under "adapter-harness".
"""


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def render(parser: argparse.ArgumentParser) -> str:
    """Markdown: one section per subcommand with its one-line purpose and its full usage and options."""
    # a fixed width, so the text does not depend on the terminal that generates it
    formatter = {"formatter_class": lambda prog: argparse.HelpFormatter(prog, width=100, max_help_position=32)}
    out = [HEADER, "```text", _help(parser, formatter).rstrip(), "```", ""]
    helps = _helps(parser)
    for name, sub in _subparsers(parser).items():
        purpose = helps.get(name, "").rstrip(".")
        out += [f"## harness {name}", "", purpose[:1].upper() + purpose[1:] + ".", "", "```text",
                _help(sub, formatter).rstrip(), "```", ""]
    return "\n".join(out)


def _help(parser: argparse.ArgumentParser, formatter: dict) -> str:
    original = parser.formatter_class
    parser.formatter_class = formatter["formatter_class"]
    try:
        return parser.format_help()
    finally:
        parser.formatter_class = original


def main() -> None:
    from harness.cli import make_parser

    sys.stdout.write(render(make_parser()))


if __name__ == "__main__":
    main()
