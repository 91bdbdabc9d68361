"""Everything a report shows, computed once and shared by the HTML and Markdown renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.report.compare import Reason, SuiteView, compare
from harness.report.provenance import facts_table, run_facts
from harness.results import RunResult
from harness.store import RunInfo


@dataclass
class Report:
    candidate: RunResult
    baseline: RunResult | None
    suites: list[SuiteView]
    reasons: list[Reason]
    provenance: list[tuple[str, str, str, bool]]  # (field, baseline, candidate, differs)
    title: str
    notes: list[str] = field(default_factory=list)  # why the two runs are not fully comparable, if they are not

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
    notes = comparability_notes(candidate, baseline, candidate_info, baseline_info) if baseline is not None else []
    notes += [note for run in (candidate, baseline) if run is not None for note in integrity_notes(run)]
    notes += [note for run, who in ((candidate, "candidate"), (baseline, "baseline")) if run is not None
              for note in unscored_notes(run, who)]
    return Report(candidate, baseline, suites, reasons, facts, title, notes)


def integrity_notes(run: RunResult) -> list[str]:
    """A run whose weights the harness could not hash (a served model) says so, at the top."""
    details = run.identity.details
    if not str(details.get("integrity", "")).startswith("not verified"):
        return []
    who = f"the adapter {run.identity.adapter}" if run.identity.adapter else f"the model {run.identity.model}"
    fingerprint = details.get("fingerprint")
    return [f"{who}: integrity {details['integrity']} ({details.get('base_url', 'a server')}); it is identified by "
            + (f"the fingerprint {fingerprint!r} its user supplied" if fingerprint else "its served name only "
               "(no --fingerprint was given)")]


def unscored_notes(run: RunResult, who: str) -> list[str]:
    """Cases a run could not score (e.g. log-likelihood cases on a server without prompt log-probabilities):
    left out of every metric, so the report says how many and why."""
    notes = []
    for path, suite in run.suites.items():
        if suite.not_evaluated:
            reasons = sorted(set(suite.not_evaluated.values()))
            notes.append(f"{path}: {len(suite.not_evaluated)} case(s) not evaluated in the {who} run "
                         f"({'; '.join(reasons[:2])}{' …' if len(reasons) > 2 else ''}); no metric counts them")
    return notes


def comparability_notes(candidate: RunResult, baseline: RunResult, candidate_info: RunInfo | None = None,
                        baseline_info: RunInfo | None = None) -> list[str]:
    """What differs between two runs' suites: a suite in one run only, a suite file changed between them,
    cases scored by one run only. The comparison then covers only what both share, and says so."""
    notes = []
    only_cand = [p for p in candidate.suites if p not in baseline.suites]
    only_base = [p for p in baseline.suites if p not in candidate.suites]
    if only_cand:
        notes.append(f"suites only in the candidate run (no baseline to compare with): {', '.join(only_cand)}")
    if only_base:
        notes.append(f"suites only in the baseline run (not compared): {', '.join(only_base)}")
    for path in candidate.suites:
        if path not in baseline.suites:
            continue
        sha_c = (candidate_info.suite_sha256.get(path) if candidate_info else None)
        sha_b = (baseline_info.suite_sha256.get(path) if baseline_info else None)
        if sha_c and sha_b and sha_c != sha_b:
            notes.append(f"{path} changed between the runs (sha256 {sha_b[:12]}… then, {sha_c[:12]}… now): "
                         "only the cases both runs scored are compared, and a case may mean something else now")
        cand_ids, base_ids = set(candidate.suites[path].cases), set(baseline.suites[path].cases)
        if cand_ids != base_ids and cand_ids and base_ids:
            notes.append(f"{path}: {len(cand_ids ^ base_ids)} case(s) scored by one run only; paired tests use "
                         f"the {len(cand_ids & base_ids)} cases both scored")
        rendered_c, rendered_b = candidate.suites[path].rendered_prompt, baseline.suites[path].rendered_prompt
        if rendered_c and rendered_b and rendered_c != rendered_b:
            notes.append(f"{path}: the two runs rendered their prompts differently (another chat template or "
                         "tokenizer); the models were not given the same text. See the rendered prompt per suite")
    return notes
