"""Case sources: suites whose cases come from a data set instead of being written inline.

A suite says ``source: {truthfulqa: {split: eval}}``; the source turns data rows into
raw case mappings, validated by the same schema as inline cases. Data is loaded at run
time (never committed); when it is missing the source raises :class:`SourceUnavailable`
and the suite is skipped with that message.
"""

from __future__ import annotations

from harness.sources.base import SOURCES, SourceSpec, SourceUnavailable, source

__all__ = ["SOURCES", "SourceSpec", "SourceUnavailable", "load_sources", "source"]


def load_sources() -> None:
    """Import the built-in sources so they register."""
    from harness.sources import training_rows, truthfulqa  # noqa: F401
