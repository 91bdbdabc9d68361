"""Suite files with mistakes give one clear line: file:line: field: message (with the fix)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from harness.errors import SuiteError
from harness.loader import load_suite

GOOD = """\
name: demo
description: a tiny suite
cases:
  - id: greet
    prompt: Say hello.
    tags: [basic]
    checks:
      - contains: {any: [hello]}
  - id: bye
    prompt: Say goodbye.
    tags: [basic]
    checks:
      - length: {max_words: 10}
thresholds:
  - {metric: pass_rate, min: 0.5}
  - {metric: contains, tag: basic, min: 0.5}
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    return info.value


def test_good_suite_loads_with_case_lines(tmp_path):
    suite = load_suite(write(tmp_path, GOOD))
    assert [c.id for c in suite.cases] == ["greet", "bye"]
    assert [c.line for c in suite.cases] == [4, 9]
    assert suite.thresholds[1].key == "contains@basic" and suite.thresholds[1].line == 16
    assert suite.render(suite.cases[0]) == (("user", "Say hello."),)


def test_unknown_check_names_line_and_suggests(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("- contains:", "- containz:")))
    assert err.line == 8
    assert "cases[0] (greet).checks[0]" in str(err)
    assert "unknown check 'containz'" in str(err) and "did you mean 'contains'" in str(err)
    assert "known: " in str(err)


def test_bad_yaml_syntax_names_line(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("    prompt: Say goodbye.", "    prompt: [Say goodbye.")))
    assert err.line is not None and 10 <= err.line <= 13
    assert "invalid YAML" in str(err) and str(err).startswith(str(tmp_path / "suite.yaml"))


def test_threshold_on_unknown_metric(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("metric: pass_rate", "metric: refusal_rate")))
    assert err.line == 15
    assert "unknown metric 'refusal_rate'" in str(err) and "known:" in str(err)


def test_threshold_on_unknown_tag(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("tag: basic", "tag: basik")))
    assert err.line == 16 and "no case has tag 'basik'" in str(err) and "did you mean 'basic'" in str(err)


def test_empty_suite(tmp_path):
    text = "name: empty\ncases: []\nthresholds:\n  - {metric: pass_rate, min: 1}\n"
    err = error_of(write(tmp_path, text))
    assert err.line == 2 and "no cases" in str(err)


def test_empty_file(tmp_path):
    err = error_of(write(tmp_path, "\n"))
    assert "file is empty" in str(err)


def test_duplicate_case_ids(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("id: bye", "id: greet")))
    assert err.line == 9 and "duplicate case id (first at line 4)" in str(err)


def test_missing_prompt(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("    prompt: Say hello.\n", "")))
    assert err.line == 4 and "exactly one of 'prompt'" in str(err)


def test_unknown_field_suggests(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("    tags: [basic]\n    checks:\n      - contains", "    tag: [basic]\n    checks:\n      - contains")))
    assert err.line == 6 and "unknown field 'tag'" in str(err) and "did you mean 'tags'" in str(err)


def test_bad_scorer_parameter(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("{max_words: 10}", "{max_wrds: 10}")))
    assert err.line == 13 and "max_wrds" in str(err) and "max_words" in str(err)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.replace("Say goodbye.", "Dis au revoir \xe0 tous.").encode("latin-1"))
    err = error_of(path)
    assert err.line == 10 and "not UTF-8" in str(err)


def test_code_executing_tags_are_refused(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("Say hello.", "!!python/object/apply:os.system [echo hi]")))
    assert err.line == 5
    assert "not allowed" in str(err) or "unsupported value" in str(err)


def test_duplicate_yaml_key(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("    prompt: Say hello.\n", "    prompt: Say hello.\n    prompt: Hi.\n")))
    assert err.line == 6 and "duplicate key" in str(err)


def test_custom_scorer_by_module_path(tmp_path, monkeypatch):
    (tmp_path / "team_checks.py").write_text("def shouts(output, **kw):\n    return output.isupper()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    suite = load_suite(write(tmp_path, GOOD.replace("- length: {max_words: 10}", "- team_checks:shouts: {}")))
    check = suite.cases[1].checks[0]
    assert check.name == "team_checks:shouts"


def test_custom_scorer_that_does_not_import(tmp_path):
    err = error_of(write(tmp_path, GOOD.replace("- length: {max_words: 10}", "- no_such_mod:fn: {}")))
    assert err.line == 13 and "cannot import 'no_such_mod'" in str(err)


def test_shipped_suites_validate():
    root = Path(__file__).resolve().parents[1] / "suites"
    for path in sorted(root.glob("*.yaml")):
        suite = load_suite(path)
        assert suite.cases or suite.skip_reason, path


def test_a_number_where_text_is_expected_says_to_quote_it(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ncases:\n  - id: a\n    prompt: Emergency number?\n    checks:\n"
                    "      - contains: {any: [police, 911]}\nthresholds:\n  - {metric: pass_rate, min: 0.5}\n")
    with pytest.raises(SuiteError, match=r"s\.yaml:6: .*any\.1: Input should be a valid string: YAML read 911 as a number; quote it: '911'"):
        load_suite(path)


def test_an_alias_bomb_is_refused_fast_and_small(tmp_path):
    import resource

    levels = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("name: bomb\n" + "\n".join(levels) + "\ncases: *i\n")  # 9^9 = 387 million strings once expanded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SuiteError, match="expands to more than 1,000,000 values"):
        load_suite(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: nothing was expanded


def test_deep_nesting_is_a_clear_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\ncases: " + "[" * 500 + "]" * 500 + "\n")
    with pytest.raises(SuiteError, match="nested too deeply"):
        load_suite(path)


@pytest.mark.parametrize(("threshold", "message"), [
    ("{metric: pass_rate, min: 60}", "min: 60 can never be met: pass_rate is between 0 and 1 (a share: write 0.6 for 60%)"),
    ("{metric: pass_rate, min: 1.2}", "min: 1.2 can never be met"),
    ("{metric: length, min: 0.8, max: 0.5}", "min 0.8 is above max 0.5: no value can meet both"),
])
def test_thresholds_that_can_never_be_met_are_refused(tmp_path, threshold, message):
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\ncases:\n  - {{id: a, prompt: hi, checks: [{{length: {{max_words: 5}}}}]}}\n"
                    f"thresholds:\n  - {threshold}\n")
    with pytest.raises(SuiteError, match=re.escape(f"s.yaml:5: thresholds[0]: {message}")):
        load_suite(path)


def test_an_unclosed_bracket_points_at_the_line_it_opened(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ncases:\n  - id: a\n    prompt: hi\n    checks:\n      - contains: {any: [police, fire\n"
                    "  - id: b\n    prompt: x\n")
    with pytest.raises(SuiteError, match=r"s\.yaml:6: invalid YAML: while parsing a flow sequence .*\(noticed at line 7\)"):
        load_suite(path)
