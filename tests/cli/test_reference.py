"""docs/cli.md is what the parsers say: regenerate it with `make docs` when this fails."""

from __future__ import annotations

from pathlib import Path

from harness.cli import make_parser
from harness.cli.reference import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_cli_md_is_up_to_date():
    assert DOC.read_text(encoding="utf-8") == render(make_parser()), (
        "docs/cli.md is stale: run `make docs` (python -m harness.cli.reference > docs/cli.md)")


def test_every_subcommand_has_a_section():
    text = render(make_parser())
    for name in ("run", "validate", "gate", "train", "report", "export-lm-eval", "demo"):
        assert f"## harness {name}\n" in text
