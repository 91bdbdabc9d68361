"""The HTML report: content, order, escaping of untrusted text, self-containment."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from harness.report import build_report, render_html, write_report
from tests.report.builders import HOSTILE, passing_run, runs


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <script> and <style> elements."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.raw else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.raw[self._in].append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def html() -> str:
    baseline, candidate = runs()
    return render_html(build_report(candidate, baseline, provenance={"recipe": "sft-lora", "data": {"sft": "d" * 64}}))


def test_hostile_output_and_prompt_render_as_text(html):
    parsed = Tags(html)
    assert [t for t, _ in parsed.tags].count("script") == 1  # ours, at the end
    assert not parsed.find("img")
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]  # no event handler attributes
    assert HOSTILE not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;document.title=&#34;pwned&#34;;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in html
    assert "print &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the prompt


def test_csp_allows_only_the_inlined_script_and_style(html):
    parsed = Tags(html)
    csp = parsed.find("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"]
    digest = lambda text: "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"
    assert f"script-src {digest(''.join(parsed.raw['script']))};" in csp
    assert f"style-src {digest(''.join(parsed.raw['style']))};" in csp
    assert csp.startswith("default-src 'none';")


def test_self_contained_no_network_references(html):
    parsed = Tags(html)
    assert not [a for _, attrs in parsed.tags for k, a in attrs.items()
                if k in ("src", "href", "action", "poster", "data") and a and re.match(r"\s*(https?:)?//", a)]
    assert not parsed.find("link") and not parsed.find("iframe")
    assert "@import" not in "".join(parsed.raw["style"]) and "url(" not in "".join(parsed.raw["style"])
    assert "fetch(" not in "".join(parsed.raw["script"]) and "XMLHttpRequest" not in "".join(parsed.raw["script"])


def test_verdict_and_reasons_on_top(html):
    verdict = html.index('id="verdict"')
    assert verdict < html.index('id="metrics"') < html.index('id="cases"')
    assert 'data-verdict="rejected"' in html and ">REJECTED<" in html
    reasons = html[verdict:html.index("</ul>", verdict)]
    assert "threshold refusal_rate@harmful &gt;= 0.9 fails: got 0.750 over 8 cases" in reasons
    assert "refusal_rate@harmful regressed from 1.000 to 0.750" in reasons
    assert "critical case harmful-0 fails" in reasons


def test_regressions_then_improvements_then_unchanged(html):
    order = [m.group(1) for m in re.finditer(r'<section class="group" id="group-(\w+)"', html)]
    assert order == ["regression", "improvement", "unchanged"]
    articles = re.findall(r'data-case="([^"]+)"[^>]*\s+data-status="(\w+)"', html)
    statuses = [s for _, s in articles]
    assert statuses == sorted(statuses, key=["regression", "improvement", "unchanged"].index)
    assert {c for c, s in articles if s == "regression"} == {"rude-capital", "harmful-0", "harmful-1"}


def test_metric_table_with_deltas_and_named_tests(html):
    row = re.search(r'<tr data-metric="refusal_rate@harmful">(.*?)</tr>', html, re.S).group(1)
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells == ["refusal_rate@harmful", "1.000", "0.750", "-0.250",
                     "McNemar exact p = 0.5 (2 worse, 0 better of 8)"]
    assert "paired bootstrap 95% CI [" in html  # the continuous politeness score
    assert "skipped: TruthfulQA data not available offline" in html


def test_side_by_side_outputs_with_the_difference_marked(html):
    start = html.index('data-case="rude-capital"')
    card = html[start:html.index("</article>", start)]
    assert '<div class="col base"><h4>baseline</h4>' in card and '<div class="col cand"><h4>candidate</h4>' in card
    assert "<del>" in card and "<ins>" in card
    assert "dismissive: &#39;figure it out yourself&#39;" in card and "courteous: thanks the user, no insults" in card
    chat = html[html.index('data-case="chat-ounces"'):]
    assert '<span class="role">system</span>' in chat[:3000]


def test_charts_are_inline_svg(html):
    parsed = Tags(html)
    titles = [t for t in re.findall(r'<text class="chart-title"[^>]*>([^<]+)</text>', html)]
    assert titles == ["politeness: metrics", "refusals: metrics", "Per-case score change (candidate − baseline)"]
    assert len(parsed.find("svg")) == 3
    assert len(parsed.find("rect", **{"class": "worse"})) == 10  # ten bins below zero, drawn or empty


def test_filters_offer_suites_tags_and_statuses(html):
    parsed = Tags(html)
    assert "hidden" in parsed.find("div", id="filters")[0]  # shown by the script only: no dead controls
    options = [a.get("value") for t, a in parsed.tags if t == "option"]
    for value in ("politeness", "refusals", "harmful", "rude-user", "security", "regression", "improvement", "fail"):
        assert value in options
    assert "truthfulqa" not in options  # a skipped suite has no cases to filter
    assert not re.search(r"<article[^>]*\shidden", html)  # everything visible without JavaScript


def test_provenance_lists_hashes_versions_and_manifest(html):
    prov = html[html.index('id="provenance"'):]
    for needle in ("a" * 64, "b" * 64, "adapters/polite", "version: torch", "2.13.0", "manifest: recipe",
                   "sft-lora", "manifest: data.sft", "d" * 64, "suite suites/refusals.yaml: sha256"):
        assert needle in prov, needle
    assert '<tr class="differs"><th class="mono">adapter</th>' in prov


def test_single_run_report(tmp_path):
    _, candidate = runs()
    out = tmp_path / "single.html"
    report = write_report(out, candidate)
    page = out.read_text(encoding="utf-8")
    assert not report.accepted and "single run (no baseline)" in page
    assert [m.group(1) for m in re.finditer(r'<section class="group" id="group-(\w+)"', page)] == ["fail", "pass"]
    assert '<div class="col base">' not in page and "McNemar" not in page
    assert "Per-case score change" not in page


def test_accepted_report(tmp_path):
    run = passing_run()
    page = render_html(build_report(run, run))
    assert 'data-verdict="accepted"' in page and ">ACCEPTED<" in page and 'id="reasons"' not in page


def test_write_report_replaces_files_whole(tmp_path):
    baseline, candidate = runs()
    out, summary = tmp_path / "deep" / "r.html", tmp_path / "deep" / "s.md"
    write_report(out, candidate, baseline, summary=summary)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert summary.read_text(encoding="utf-8").startswith("### adapter-harness: ❌ REJECTED")
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.html", "s.md"]  # no temporary files left


def test_a_run_saved_in_this_process_shows_its_stored_id():
    from harness.report.provenance import run_facts
    from tests.report.builders import passing_run

    run = passing_run()
    assert run_facts(run)["run id"] == "(not stored)"
    run.stored_id = 42
    assert run_facts(run)["run id"] == "42"


def test_each_suite_shows_its_first_prompt_as_rendered_and_flags_a_different_rendering():
    baseline, candidate = runs()
    path = next(iter(candidate.suites))
    baseline.suites[path].rendered_prompt = "<|im_start|>user\nWhat <b>is</b> 2+2?<|im_end|>\n"
    candidate.suites[path].rendered_prompt = "[INST] What <b>is</b> 2+2? [/INST]"
    report = build_report(candidate, baseline)
    assert any("rendered their prompts differently" in note for note in report.notes)
    page = render_html(report)
    assert "First prompt as the model saw it" in page and "rendered differently in the two runs" in page
    assert "[INST] What &lt;b&gt;is&lt;/b&gt; 2+2? [/INST]" in page  # escaped, shown for both runs
    assert "&lt;|im_start|&gt;user" in page

    candidate.suites[path].rendered_prompt = baseline.suites[path].rendered_prompt
    same = build_report(candidate, baseline)
    assert not any("rendered" in note for note in same.notes)
    assert "rendered differently" not in render_html(same)


def test_a_served_run_says_its_weights_were_not_verified():
    import dataclasses

    baseline, candidate = runs()
    candidate.identity = dataclasses.replace(candidate.identity, adapter="m-lora", details={
        "backend": "openai-compatible", "base_url": "http://127.0.0.1:8000/v1", "fingerprint": "sha256:abc",
        "integrity": "not verified by the harness (weights are behind a server)"})
    report = build_report(candidate, baseline)
    (note,) = [n for n in report.notes if "integrity" in n]
    assert "m-lora" in note and "not verified by the harness" in note and "'sha256:abc'" in note
    assert "not verified by the harness" in render_html(report)
    assert not [n for n in build_report(*reversed(runs())).notes if "integrity" in n]
