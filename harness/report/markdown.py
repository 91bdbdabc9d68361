"""A short Markdown summary of a report, for a pull-request comment."""

from __future__ import annotations

import html
import re

from harness.report.compare import CasePair
from harness.report.model import Report

MAX_CASES = 20  # per list: a PR comment stays readable; the HTML report has everything
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~!])")


def md(text: object, limit: int = 160) -> str:
    """Untrusted text made inert inside a Markdown table cell: one line, no HTML, no markup.

    >>> md("<script>x</script> | *a*")
    '&lt;script&gt;x&lt;/script&gt; \\\\| \\\\*a\\\\*'
    """
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def render_markdown(report: Report, *, html_path: str | None = None) -> str:
    has_baseline = report.baseline is not None
    word = "✅ ACCEPTED" if report.accepted else "❌ REJECTED"
    against = f" vs {md(report.baseline.identity.label())}" if has_baseline else " (single run, no baseline)"
    lines = [f"### adapter-harness: {word}", "", f"Candidate {md(report.candidate.identity.label())}{against}.", ""]
    lines += [f"> ⚠ {md(note, 300)}" for note in report.notes] + ([""] if report.notes else [])
    if has_baseline:
        counts = [(s, report.count(s)) for s in ("regression", "improvement", "unchanged", "new", "removed")]
        lines += [" · ".join(f"{n} {s}{'s' if n != 1 and s in ('regression', 'improvement') else ''}"
                             for s, n in counts if n or s in ("regression", "improvement")), ""]
        lines += ["| suite | verdict | pass rate (baseline → candidate) | Δ | test | regressions | improvements |",
                  "|---|---|---|---|---|---|---|"]
    else:
        lines += ["| suite | verdict | pass rate | failing cases |", "|---|---|---|---|"]
    failing = {r.path for r in report.reasons}
    for v in report.suites:
        verdict = "skipped" if v.skipped else "n/a" if v.cand is None else "fail" if v.path in failing else "pass"
        row = next((m for m in v.metrics if m.key == "pass_rate"), None)
        if has_baseline:
            rate = "—" if row is None else f"{_num(row.base)} → {_num(row.cand)}"
            delta = "—" if row is None or row.delta is None else f"{row.delta:+.3f}"
            test = "—" if row is None or row.test is None else md(row.test.describe())
            lines.append(f"| {md(v.name)} | {verdict} | {rate} | {delta} | {test} | {v.count('regression')} | "
                         f"{v.count('improvement')} |")
        else:
            fails = sum(1 for p in v.pairs if p.outcome == "fail") if v.cand is not None and not v.skipped else 0
            lines.append(f"| {md(v.name)} | {verdict} | {'—' if row is None else _num(row.cand)} | {fails} |")
    if report.reasons:
        lines += ["", "**Why it is rejected**", ""]
        lines += [f"- **{md(r.suite)}** ({r.kind}): {md(r.text, 300)}" for r in report.reasons]
    if has_baseline:
        lines += _case_list("Regressions", [p for v in report.suites for p in v.pairs if p.status == "regression"])
        lines += _case_list("Improvements", [p for v in report.suites for p in v.pairs if p.status == "improvement"])
    else:
        lines += _case_list("Failing cases", [p for v in report.suites for p in v.pairs if p.outcome == "fail"])
    if has_baseline:  # every comparison with its estimate, bound, n and rule (not only the failing ones)
        decided = [(v.name, t) for v in report.suites for t, _, _ in v.thresholds if t.decision]
        if decided:
            lines += ["", f"<details><summary>Regression decisions ({len(decided)})</summary>", ""]
            lines += [f"- {md(name)} `{t.key.replace('`', '')}`: {md(t.decision, 300)}" for name, t in decided]
            lines += ["", "</details>"]
    # Cases generated k times (generation.samples) that passed in some samples and failed in others.
    lines += _case_list("Flaky cases (candidate)", [p for v in report.suites for p in v.pairs if p.cand and p.cand.flaky])
    if html_path:
        lines += ["", f"Full report: `{html_path.replace('`', '')}` (self-contained HTML, opens offline)."]
    return "\n".join(lines) + "\n"


def _case_list(title: str, pairs: list[CasePair]) -> list[str]:
    if not pairs:
        return []
    out = ["", f"<details><summary>{title} ({len(pairs)})</summary>", "",
           "| suite | case | failing checks (candidate) |", "|---|---|---|"]
    for p in pairs[:MAX_CASES]:
        checks = [c for c in (p.cand.checks if p.cand else []) if not c.score.passed]
        why = "; ".join(f"{c.check}: {c.score.explanation}" for c in checks) or "all checks pass"
        if p.cand is not None and p.cand.flaky:
            why = f"flaky: passed in {p.cand.pass_fraction:.0%} of {len(p.cand.samples)} samples; {why}"
        out.append(f"| {md(p.suite)} | {md(p.case_id, 80)} | {md(why, 200)} |")
    if len(pairs) > MAX_CASES:
        out.append(f"| … | {len(pairs) - MAX_CASES} more in the HTML report | |")
    return out + ["", "</details>"]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"
