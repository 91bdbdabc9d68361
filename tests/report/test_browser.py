"""The report in a real browser: headless Chromium renders it offline, filters work, no script errors.

Needs Debian's ``chromium`` (``make test`` installs it, or ``tools/install_test_packages.sh``).
Skipped without it on a developer machine; in CI (``CI`` set) a missing browser is a failure.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from harness.report import write_report
from tests.report.builders import runs

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is required for the browser test in CI: run tools/install_test_packages.sh",
                    pytrace=False)
    pytest.skip("chromium not installed (make test installs it; or run tools/install_test_packages.sh)",
                allow_module_level=True)

from tests.report.cdp import Browser  # noqa: E402

VISIBLE = ("Array.from(document.querySelectorAll('article.case'))"
           ".filter(a => !a.hidden).map(a => a.dataset.case).sort()")


@pytest.fixture(scope="module")
def report_url(tmp_path_factory) -> str:
    baseline, candidate = runs()
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(out, candidate, baseline, provenance={"recipe": "sft-lora"})
    return out.as_uri()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    home = tmp_path_factory.mktemp("chromium")
    browser = Browser(CHROMIUM, home / "profile", home / "chromium.log")  # a fresh profile every run
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def loaded(browser, report_url):
    browser.open(report_url)
    return browser


def test_verdict_metrics_and_side_by_side_cases_render(loaded):
    page = loaded.js("""JSON.stringify({
        verdict: document.getElementById('verdict').dataset.verdict,
        word: document.querySelector('#verdict .word').innerText,
        reasons: document.querySelectorAll('#reasons li').length,
        metricTables: document.querySelectorAll('table.metrics').length,
        refusalRow: document.querySelector('tr[data-metric="refusal_rate@harmful"]').innerText,
        cases: document.querySelectorAll('article.case').length,
        sideBySide: document.querySelectorAll('article.case .sbs .col.base + .col.cand').length,
        firstCase: document.querySelector('article.case').dataset.status,
        charts: document.querySelectorAll('svg.chart').length,
        filters: getComputedStyle(document.getElementById('filters')).display,
        ready: document.documentElement.dataset.filters,
        title: document.title,
    })""")
    page = json.loads(page)
    # 5 reasons, plus the 2 unchanged politeness metrics that 4-5 paired cases cannot show to be
    # within 0.05 of their baseline (non-inferiority; see test_compare)
    assert page["verdict"] == "rejected" and page["word"] == "REJECTED" and page["reasons"] == 7
    assert page["metricTables"] == 2
    assert page["refusalRow"].split("\t")[:4] == ["refusal_rate@harmful", "1.000", "0.750", "-0.250"]
    assert page["cases"] == 13 and page["sideBySide"] == 13
    assert page["firstCase"] == "regression"
    assert page["charts"] == 3
    assert page["filters"] != "none" and page["ready"] == "ready"
    assert page["title"].startswith("Release report:")


def test_hostile_output_stays_text(loaded):
    result = json.loads(loaded.js("""JSON.stringify({
        pwned: window.__pwned === undefined ? null : window.__pwned,
        title: document.title,
        text: document.querySelector('article[data-case="hostile-output"] .col.cand pre').innerText,
        imgs: document.querySelectorAll('img').length,
        bolds: document.querySelectorAll('pre b').length,
    })"""))
    assert result["pwned"] is None and result["title"] != "pwned"
    assert result["text"].startswith('<script>document.title="pwned"') and result["imgs"] == 0 and result["bolds"] == 0


def test_filters_by_status_search_tag_and_suite(loaded):
    loaded.js("(() => { const s = document.getElementById('f-status'); s.value = 'regression';"
              " s.dispatchEvent(new Event('change')); })()")
    assert loaded.js(VISIBLE) == ["harmful-0", "harmful-1", "rude-capital"]
    assert loaded.js("document.getElementById('f-count').textContent") == "3 of 13 cases shown"
    assert loaded.js("location.hash") == "#status=regression"
    assert loaded.js("document.getElementById('group-improvement').hidden") is True

    loaded.js("(() => { const q = document.getElementById('f-q'); q.value = 'CANBERRA';"
              " q.dispatchEvent(new Event('input')); })()")
    assert loaded.js(VISIBLE) == ["rude-capital"]  # the baseline's output mentions Canberra

    loaded.js("document.getElementById('f-clear').click()")
    assert len(loaded.js(VISIBLE)) == 13
    loaded.js("(() => { const t = document.getElementById('f-tag'); t.value = 'harmful';"
              " t.dispatchEvent(new Event('change')); })()")
    assert loaded.js(VISIBLE) == [f"harmful-{i}" for i in range(8)]
    loaded.js("(() => { const s = document.getElementById('f-suite'); s.value = 'politeness';"
              " s.dispatchEvent(new Event('change')); })()")
    assert loaded.js(VISIBLE) == []
    assert loaded.js("document.getElementById('f-count').textContent") == "0 of 13 cases shown"
    loaded.js("document.getElementById('f-clear').click()")


def test_filter_from_the_url_fragment(browser, report_url):
    browser.open("about:blank")
    browser.open(report_url + "#suite=refusals&status=fail")
    assert browser.js(VISIBLE) == ["harmful-0", "harmful-1"]
    assert browser.js("document.getElementById('f-suite').value") == "refusals"
    browser.open("about:blank")
    browser.open(report_url + "#status=no-such-status&q=ounces")  # unknown values are ignored, not fatal
    assert browser.js(VISIBLE) == ["chat-ounces"]


def test_screenshot_no_errors_and_no_network(browser, report_url, tmp_path_factory):
    browser.open("about:blank")
    browser.open(report_url)
    shot = browser.screenshot(tmp_path_factory.mktemp("screenshot") / "report.png")
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    print(f"screenshot: {shot}")
    assert browser.errors() == []
    assert [u for u in browser.requested_urls() if not u.startswith(("file:", "data:", "about:"))] == []
    # The error capture itself works: a thrown exception is seen.
    browser.js("setTimeout(() => { throw new Error('probe-error') }, 0); new Promise(r => setTimeout(r, 50))")
    browser.call("Runtime.evaluate", expression="1")
    assert any("probe-error" in e for e in browser.errors())
