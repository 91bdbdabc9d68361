"""Before/after release reports: one self-contained HTML page, plus a Markdown summary for a PR.

>>> from harness.report import write_report   # doctest: +SKIP
>>> write_report("report.html", candidate_run, baseline_run, summary="summary.md")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.model import Report, build_report
from harness.results import RunResult
from harness.store import RunInfo

__all__ = ["Report", "build_report", "render_html", "render_markdown", "write_report"]


def write_report(
    out: str | Path | None,
    candidate: RunResult,
    baseline: RunResult | None = None,
    *,
    summary: str | Path | None = None,
    provenance: Mapping[str, Any] | None = None,
    candidate_info: RunInfo | None = None,
    baseline_info: RunInfo | None = None,
) -> Report:
    """Write the HTML report to ``out`` and/or the Markdown summary to ``summary``; return the Report."""
    report = build_report(candidate, baseline, provenance=provenance,
                          candidate_info=candidate_info, baseline_info=baseline_info)
    if out is not None:
        _write(Path(out), render_html(report))
    if summary is not None:
        _write(Path(summary), render_markdown(report, html_path=None if out is None else str(out)))
    return report


def _write(path: Path, text: str) -> None:
    """Write via a temporary file, so an existing report is never left half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
