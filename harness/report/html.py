"""Render the self-contained HTML report: one file, inline CSS/JS/SVG, strict CSP, every value escaped."""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from harness import __version__
from harness.report.charts import Chart, delta_histogram, metric_chart
from harness.report.compare import STATUS_TITLES, CasePair, ordered_pairs
from harness.report.diff import Segment, word_diff
from harness.report.model import Report
from harness.report.significance import BOOTSTRAP_RESAMPLES, CONFIDENCE
from harness.scorers import Score

TEMPLATES = Path(__file__).parent / "templates"
OPEN_LIMIT = 100  # groups of unchanged / passing cases start collapsed when larger than this


@dataclass
class Column:
    who: str  # 'base' | 'cand'
    title: str
    segments: list[Segment] | None
    note: str = ""


@dataclass
class CheckRow:
    check: str
    base: Score | None
    cand: Score | None


@dataclass
class CaseView:
    index: int
    pair: CasePair
    prompt: list[tuple[str | None, str]]
    prompt_changed: bool
    columns: list[Column]
    checks: list[CheckRow]
    line: int
    critical: bool


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # autoescape=True for every template, whatever its extension: outputs and prompts are untrusted.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def _static(name: str) -> tuple[Markup, str]:
    """A static asset, inlined verbatim (it is ours), and its CSP hash."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


def render_html(report: Report) -> str:
    css, css_hash = _static("report.css")
    script, js_hash = _static("report.js")
    # No network at all: the only script and style allowed are the two inlined above, by hash,
    # so even a rendering bug could not run injected markup.
    csp = (f"default-src 'none'; script-src {js_hash}; style-src {css_hash}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    has_baseline = report.baseline is not None
    groups = ordered_pairs(report.suites, has_baseline=has_baseline)
    number = itertools.count(1)  # element ids: case ids are only unique within a suite
    case_groups = [(status, [_case_view(next(number), p, has_baseline) for p in pairs])
                   for status, pairs in groups.items()]
    deltas = [p.delta for v in report.suites for p in v.pairs if p.delta is not None]
    charts: dict[str, Chart | None] = {
        v.path: metric_chart(f"{v.name}: metrics", v.metrics, has_baseline=has_baseline) for v in report.suites
    }
    failing = {r.path for r in report.reasons}
    suite_verdicts = {v.path: "skipped" if v.skipped else "n/a" if v.cand is None else
                      "fail" if v.path in failing else "pass" for v in report.suites}
    tags = sorted({t for v in report.suites for p in v.pairs for t in p.tags})
    statuses = ([(s, s) for s in ("regression", "improvement", "new", "unchanged", "removed")] if has_baseline else [])
    statuses += [("fail", "failing (candidate)" if has_baseline else "failing"),
                 ("pass", "passing (candidate)" if has_baseline else "passing")]
    titles = {**STATUS_TITLES, "fail": "Failing cases", "pass": "Passing cases"}
    context = {
        "title": report.title,
        "css": css, "script": script, "csp": csp,
        "version": __version__,
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "has_baseline": has_baseline,
        "cand_label": report.candidate.identity.label(),
        "base_label": report.baseline.identity.label() if has_baseline else "",
        "accepted": report.accepted,
        "reasons": report.reasons,
        "notes": report.notes,
        "suites": report.suites,
        "suite_verdicts": suite_verdicts,
        "charts": charts,
        "histogram": delta_histogram(deltas) if has_baseline else None,
        "groups": case_groups,
        "group_titles": titles,
        "open_groups": {s for s, items in case_groups if s not in ("unchanged", "pass") or len(items) <= OPEN_LIMIT},
        "filter_suites": list(dict.fromkeys(v.name for v in report.suites if v.pairs)),
        "filter_tags": tags,
        "filter_statuses": statuses,
        "provenance": report.provenance,
        "confidence": CONFIDENCE,
        "resamples": BOOTSTRAP_RESAMPLES,
    }
    return _environment().get_template("report.html.j2").render(context)


def _prompt_parts(prompt) -> list[tuple[str | None, str]]:
    return [(None, prompt)] if isinstance(prompt, str) else [(role, content) for role, content in prompt]


def _case_view(index: int, pair: CasePair, has_baseline: bool) -> CaseView:
    shown = pair.cand or pair.base
    prompt_changed = pair.base is not None and pair.cand is not None and pair.base.prompt != pair.cand.prompt
    base_out = pair.base.output if pair.base else None
    cand_out = pair.cand.output if pair.cand else None
    if not has_baseline:
        columns = [Column("cand", "output", None if cand_out is None else [Segment(cand_out, "same")], _note(pair.cand))]
    else:
        if base_out is not None and cand_out is not None:
            left, right = word_diff(base_out, cand_out)
        else:
            left = None if base_out is None else [Segment(base_out, "same")]
            right = None if cand_out is None else [Segment(cand_out, "same")]
        columns = [Column("base", "baseline", left, _note(pair.base)), Column("cand", "candidate", right, _note(pair.cand))]
    return CaseView(index, pair, _prompt_parts(shown.prompt), prompt_changed, columns, _check_rows(pair),
                    shown.line, shown.critical)


def _note(case) -> str:
    if case is None:
        return "(case not in this run)"
    return "(no generated output: log-likelihood checks only)"


def _check_rows(pair: CasePair) -> list[CheckRow]:
    """Checks side by side, matched by description (then position among equal descriptions)."""
    def keyed(case):
        seen: dict[str, int] = {}
        out = {}
        for c in case.checks if case else []:
            n = seen[c.check] = seen.get(c.check, 0) + 1
            out[(c.check, n)] = c.score
        return out

    base, cand = keyed(pair.base), keyed(pair.cand)
    return [CheckRow(key[0], base.get(key), cand.get(key)) for key in dict.fromkeys([*cand, *base])]
