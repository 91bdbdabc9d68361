"""`harness runs` and `harness report`, driven through argparse as the CLI will drive them."""

from __future__ import annotations

import argparse
import json

import pytest

from harness.cli.store import register
from harness.errors import HarnessError
from harness.store import RunStore
from tests.report.builders import runs


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def stored(store_spec: str) -> str:
    """Two linked runs, in an SQLite file and (second run of each test) in a PostgreSQL database."""
    path = store_spec
    store = RunStore(path)
    baseline, candidate = runs()
    base = store.save(baseline)
    store.save(candidate, baseline_run=base)
    return path


def test_runs_lists_newest_first(stored, capsys):
    assert run_cli("runs", "--store", str(stored)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "saved", "(UTC)", "model"]
    assert lines[1].startswith("2 ") and "adapters/polite" in lines[1] and "fail" in lines[1]
    assert lines[2].startswith("1 ") and "politeness, refusals, truthfulqa" in lines[2]
    assert "2 run(s) from" in lines[-1]


def test_runs_json(stored, capsys):
    run_cli("runs", "--store", str(stored), "--json", "-n", "1")
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["baseline_run"], r["verdict"]) for r in listed] == [(2, 1, "fail")]


def test_runs_on_an_empty_store(tmp_path, capsys):
    assert run_cli("runs", "--store", str(tmp_path / "nothing.sqlite3")) == 0
    assert "no runs stored" in capsys.readouterr().out


def test_report_defaults_to_latest_against_its_own_baseline(stored, tmp_path, capsys):
    out, summary = tmp_path / "r" / "report.html", tmp_path / "r" / "summary.md"
    assert run_cli("report", "--store", str(stored), "--out", str(out), "--summary", str(summary)) == 0
    printed = capsys.readouterr().out
    assert "candidate: run 2" in printed and "baseline:  run 1" in printed and "REJECTED" in printed
    html = out.read_text(encoding="utf-8")
    assert 'data-verdict="rejected"' in html and 'id="group-regression"' in html
    assert "<td class=\"mono\">2</td>" in html  # stored run ids appear in the provenance table
    assert "REJECTED" in summary.read_text(encoding="utf-8")


def test_report_with_explicit_runs_and_single_run(stored, tmp_path, capsys):
    out = tmp_path / "swap.html"
    run_cli("report", "--store", str(stored), "--candidate", "1", "--baseline", "latest", "--out", str(out))
    assert "candidate: run 1" in capsys.readouterr().out
    assert 'id="group-improvement"' in out.read_text(encoding="utf-8")  # swapped: regressions become improvements
    run_cli("report", "--store", str(stored), "--candidate", "latest", "--baseline", "none", "--out", str(out))
    assert "single-run report" in capsys.readouterr().out
    assert "single run (no baseline)" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("argv, message", [
    (["--candidate", "2", "--baseline", "2"], "are the same run"),
    (["--candidate", "9"], "no run 9"),
    (["--baseline", "latest~5"], "does not exist"),
])
def test_report_errors(stored, tmp_path, argv, message):
    with pytest.raises(HarnessError, match=message):
        run_cli("report", "--store", str(stored), "--out", str(tmp_path / "x.html"), *argv)
    assert not (tmp_path / "x.html").exists()


def test_report_needs_an_html_file_name(stored, tmp_path):
    with pytest.raises(HarnessError, match=r"name it \*\.html"):
        run_cli("report", "--store", str(stored), "--out", str(tmp_path / "x.pdf"))


def test_report_of_runs_with_different_suites_warns_loudly(tmp_path, capsys):
    path = tmp_path / "runs.sqlite3"
    store = RunStore(path)
    baseline, candidate = runs()
    del baseline.suites["suites/politeness.yaml"]  # the baseline never ran that suite
    base = store.save(baseline)
    store.save(candidate, baseline_run=base)
    assert run_cli("report", "--store", str(path), "--out", str(tmp_path / "r.html")) == 0
    err = capsys.readouterr().err
    assert "warning: suites only in the candidate run (no baseline to compare with): suites/politeness.yaml" in err
    assert "The two runs are not fully comparable." in (tmp_path / "r.html").read_text()
