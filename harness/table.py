"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from harness.results import CaseResult, RunResult, ThresholdResult


def render(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces.

    >>> print(render(["a", "bb"], [[1, "x"]]))
    a  bb
    -  --
    1  x
    """
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def fmt_missed(value: float, rule: str) -> str:
    """``value`` with enough digits (3 to 6) to show it misses the rule's bound: "0.52996", not
    "0.530" against ">= 0.53", which reads as a pass."""
    try:
        bound = float(rule.split()[-1])
    except (ValueError, IndexError):
        return fmt(value)
    for digits in range(3, 7):
        shown = f"{value:.{digits}f}"
        if float(shown) != bound:
            break
    return shown


def fmt_result(t: ThresholdResult) -> str:
    """A threshold's value as the tables show it: a failing one with the digits that show the miss."""
    return fmt(t.value) if t.value is None or t.holds else fmt_missed(t.value, t.rule)


def run_table(run: RunResult) -> str:
    """Per suite: each threshold's metric, its value (and baseline), the rule and the verdict."""
    with_base = run.baseline is not None
    headers = ["suite", "metric", *(["baseline"] if with_base else []), "value", "threshold", "verdict"]
    rows = []
    for suite in run.suites.values():
        if suite.skipped:
            rows.append([suite.name, "(skipped)", *([""] if with_base else []), "", suite.skipped[:60], "skip"])
            continue
        for t in suite.thresholds:
            verdict = "pass" if t.holds and not t.regressed else "REGRESSED" if t.holds else "FAIL"
            if t.decision.startswith("not evaluated"):
                verdict = "not evaluated (allowed)" if t.holds else "NOT EVALUATED"
            rule = t.rule.split(" ", 1)[1]
            rows.append([suite.name, t.key, *([fmt(t.baseline)] if with_base else []), fmt_result(t), rule, verdict])
        critical = suite.failed_critical
        if critical:
            rows.append([suite.name, "critical cases", *([""] if with_base else []), f"{len(critical)} failed", ", ".join(critical)[:60], "FAIL"])
        flaky = [c.case_id for c in suite.cases.values() if c.flaky]
        if flaky:  # passed in some samples, failed in others (generation.samples > 1)
            rows.append([suite.name, "flaky cases", *([""] if with_base else []), str(len(flaky)), ", ".join(flaky)[:60], "note"])
        errored = suite.errored
        if errored:
            rows.append([suite.name, "errors", *([""] if with_base else []), str(len(errored)), errored[0][:60], "ERROR"])
        rows.append([suite.name, "== suite", *([""] if with_base else []), f"{len(suite.cases)} cases"
                     + (f" (+{len(suite.not_evaluated)} not evaluated)" if suite.not_evaluated else ""), "",
                     suite.verdict.upper()])
    return render(headers, rows)


def case_report(result: CaseResult) -> str:
    """A case as a reviewer reads it: prompt, output, and each check's verdict, score and why."""
    prompt = result.prompt if isinstance(result.prompt, str) else "\n".join(f"[{r}] {c}" for r, c in result.prompt)
    output = result.output if result.output is not None else "(log-likelihood only)"
    lines = ["prompt:", _indent(prompt), "output:", _indent(output)]
    for c in result.checks:
        mark = "PASS" if c.score.passed else "FAIL"
        lines.append(f"{mark} {c.check}  score={c.score.value:.3f}  — {c.score.explanation}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines() or [""])
