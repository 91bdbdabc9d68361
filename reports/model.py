"""Everything a report shows, computed once and shared by the HTML and Markdown renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.results import RunResult
from harness.store import RunInfo
from reports.compare import Reason, SuiteView, compare
from reports.provenance import facts_table, run_facts


@dataclass
class Report:
    candidate: RunResult
    baseline: RunResult | None
    suites: list[SuiteView]
    reasons: list[Reason]
    provenance: list[tuple[str, str, str, bool]]  # (field, baseline, candidate, differs)
    title: str

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def count(self, status: str) -> int:
        return sum(v.count(status) for v in self.suites)


def build_report(
    candidate: RunResult,
    baseline: RunResult | None = None,
    *,
    provenance: Mapping[str, Any] | None = None,
    candidate_info: RunInfo | None = None,
    baseline_info: RunInfo | None = None,
    title: str | None = None,
) -> Report:
    """Compare ``candidate`` with ``baseline`` (or report on the candidate alone).

    ``provenance`` is the candidate adapter's manifest (recipe, data hashes), shown with the
    hashes and versions; ``*_info`` are the runs' store records when they come from the store.
    """
    suites, reasons = compare(candidate, baseline)
    facts = facts_table(run_facts(candidate, candidate_info, provenance),
                        run_facts(baseline, baseline_info) if baseline is not None else None)
    if title is None:
        title = f"Release report: {candidate.identity.label()}"
    return Report(candidate, baseline, suites, reasons, facts, title)
