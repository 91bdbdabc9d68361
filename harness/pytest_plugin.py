"""pytest integration: ``pytest suites/`` collects suite YAML files as tests.

Each case is a test (``suites/refusals.yaml::pipe-bomb``) reported at its YAML line;
each threshold is a test (``...::threshold[refusal_rate@harmful]``); with
``--baseline`` each threshold's metric also gets ``...::regression[...]``.

Everything is evaluated once, before the first test runs: the model loads once and
every selected suite's cases go to the backend in batches. The tests then only look up
their results. A failing case in a suite whose thresholds hold is an xfail (the suite
tolerates it); a ``critical`` case must pass on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.evaluate import ModelSpec, baseline_spec, evaluate
from harness.loader import load_suite, suite_allowed_missing
from harness.results import CaseResult, RunResult, SuiteResult, ThresholdResult
from harness.schema import Case, Suite, Threshold
from harness.table import case_report, fmt_result

STATE = pytest.StashKey["_State"]()
pytest_plugins = ["harness.report_plugin"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("harness_suite_dirs", type="args", default=["suites"],
                  help="folder names whose YAML files are adapter-harness suites (default: suites)")
    group = parser.getgroup("adapter-harness", "adapter-harness suites")
    group.addoption("--model", default=None, help="base model: 'embedded' (default), an HF hub id or a local directory")
    group.addoption("--adapter", default=None, help="PEFT LoRA adapter directory applied to --model")
    group.addoption("--baseline", default=None, metavar="MODEL_OR_ADAPTER",
                    help="'base' (the model without --adapter), an adapter directory, or a model: adds a regression test per threshold")
    group.addoption("--results", default=None, metavar="PATH", help="write per-case outputs, scores and verdicts as JSON")
    group.addoption("--batch-size", type=int, default=32, help="generation / scoring batch size (default 32)")
    group.addoption("--allow-missing", action="append", default=[], metavar="SUITE[:METRIC]",
                    help="a suite (name or path) that may be not evaluated, e.g. when its data is missing, or "
                         "SUITE:METRIC, a metric the backend cannot score; anything else not evaluated fails the "
                         "session (repeatable)")
    group.addoption("--backend", default="hf", choices=["hf", "openai-compatible", "vllm"],
                    help="hf: transformers in this process (default); openai-compatible: a served model; "
                         "vllm: vLLM in this process (needs a GPU)")
    group.addoption("--base-url", default=None, help="the server's API root, e.g. http://127.0.0.1:8000/v1")
    group.addoption("--fingerprint", default=None, help="what the served weights are; recorded, keys the cache")
    group.addoption("--max-concurrency", type=int, default=4, help="server requests in flight at once (default 4)")
    group.addoption("--no-cache", action="store_true", default=False,
                    help="run every case on the model instead of reusing results stored by an identical earlier run")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STATE] = _State(config)
    if config.option.verbose < 2:  # the libraries' own bars and warnings only with pytest -vv
        from harness.logs import quiet_libraries

        quiet_libraries()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    state = parent.config.stash[STATE]
    if _is_suite_path(file_path, parent.config):
        state.collected_files += 1
        return SuiteFile.from_parent(parent, path=file_path)
    state.skipped_yaml.append(file_path)
    return None


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    """One line when nothing was collected but YAML files were seen, and how to include them."""
    state = config.stash[STATE]
    if items or state.collected_files or not state.skipped_yaml:
        return None
    folders = sorted({p.parent.name for p in state.skipped_yaml})
    return (f"adapter-harness: {len(state.skipped_yaml)} YAML file(s) seen, none collected as a suite: suites are "
            f"YAML files under a folder named {' or '.join(map(repr, _suite_dirs(config)))}, or named themselves; "
            f"to include these, set 'harness_suite_dirs = {' '.join(folders[:3])}' in your pytest ini "
            f"(or pass -o harness_suite_dirs=...), or name the files")


def _suite_dirs(config: pytest.Config) -> list[str]:
    return list(config.getini("harness_suite_dirs")) or ["suites"]


def _is_suite_path(path: Path, config: pytest.Config) -> bool:
    """The collection rule: a YAML file is a suite when a parent folder has one of the names in the
    ``harness_suite_dirs`` ini option (default: suites), or when it is named on the command line.
    (Not every YAML below a folder named on the command line: test data and lm-eval task files live
    beside tests.)"""
    if set(_suite_dirs(config)) & set(path.parts[:-1]):
        return True
    return any(Path(arg.split("::")[0]).resolve() == path.resolve() for arg in config.args)


def _shown_path(path: Path) -> Path:
    """The path relative to the working directory when below it: shorter messages, stable result keys."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


class SuiteFile(pytest.File):
    def collect(self):
        suite = load_suite(_shown_path(self.path))
        if suite.skip_reason:
            # A suite that could not run is "not evaluated", never a pass: it fails the
            # session unless the user accepts it as missing.
            if not suite_allowed_missing(suite, self.config.getoption("--allow-missing")):
                raise HarnessError(f"{suite.path}: not evaluated: {suite.skip_reason}; accept it as missing with "
                                   f"--allow-missing {suite.name}")
            pytest.skip(f"{suite.name}: not evaluated ({suite.skip_reason}); allowed by --allow-missing")
        self.suite = suite
        for case in suite.cases:
            yield CaseItem.from_parent(self, name=case.id, case=case)
        for th in suite.thresholds:
            yield ThresholdItem.from_parent(self, name=f"threshold[{th.key}]", threshold=th)
        if self.config.getoption("--baseline"):
            for th in suite.thresholds:
                yield RegressionItem.from_parent(self, name=f"regression[{th.key}]", threshold=th)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, HarnessError):
            return str(excinfo.value)  # file:line: field: message — no traceback wall
        return super().repr_failure(excinfo, style)


class _SuiteItem(pytest.Item):
    parent: SuiteFile

    @property
    def suite(self) -> Suite:
        return self.parent.suite

    def result(self) -> SuiteResult:
        return self.config.stash[STATE].suite_result(self.suite)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (HarnessError, VerdictFailure)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class CaseItem(_SuiteItem):
    def __init__(self, *, case: Case, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case
        self.extra_keyword_matches.update(case.tags)  # `pytest -k harmful` selects by tag

    def setup(self) -> None:
        # A case that could not be scored (its scorer raised) is an ERROR, not a failed score.
        suite_result = self.result()
        if self.case.id in suite_result.not_evaluated:  # never a score; its thresholds say whether that is allowed
            if self.case.critical:  # ... but a critical case must pass on its own, and unscored it has not
                raise HarnessError(f"{self.suite.path}:{self.case.line}: critical case {self.case.id} not evaluated: "
                                   f"{suite_result.not_evaluated[self.case.id]}")
            pytest.skip(f"not evaluated: {suite_result.not_evaluated[self.case.id]}")
        errors = suite_result.cases[self.case.id].errors
        if errors:
            raise HarnessError(f"{self.suite.path}:{self.case.line}: {self.case.id} could not be scored: "
                               + "; ".join(errors))

    def runtest(self) -> None:
        suite_result = self.result()
        result = suite_result.cases[self.case.id]
        if result.passed:
            return
        if not self.case.critical and _tolerated(self.suite, suite_result, self.case):
            pytest.xfail(f"tolerated by the suite's thresholds — {_scores_line(result)}")
        where = f"{self.suite.path}:{self.case.line}"
        head = "CRITICAL case failed" if self.case.critical else "case failed and the suite's thresholds do not tolerate it"
        raise VerdictFailure(f"{where}: {head}\n" + case_report(result))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, f"{self.suite.name}::{self.case.id}"


class ThresholdItem(_SuiteItem):
    def __init__(self, *, threshold: Threshold, **kwargs: Any):
        super().__init__(**kwargs)
        self.threshold = threshold

    def _threshold_result(self) -> ThresholdResult:
        return next(t for t in self.result().thresholds if t.key == self.threshold.key)

    def runtest(self) -> None:
        res = self._threshold_result()
        if res.decision.startswith("not evaluated") and res.holds:
            pytest.skip(res.decision)
        if not res.holds:
            where = f"{self.suite.path}:{self.threshold.line}"
            raise VerdictFailure(f"{where}: " + _threshold_report(res, self.result(), self.threshold))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.threshold.line - 1, f"{self.suite.name}::{self.name}"


class RegressionItem(ThresholdItem):
    def runtest(self) -> None:
        res = self._threshold_result()
        if res.baseline is None or res.value is None:
            pytest.skip(f"{res.key}: the baseline produced no value to compare with")
        if res.regressed:
            raise VerdictFailure(f"{res.regression_headline()}: {res.regression_line()}")


class VerdictFailure(Exception):
    """A case or threshold did not meet the suite; its message is the whole report."""


def _tolerated(suite: Suite, result: SuiteResult, case: Case) -> bool:
    """Every threshold that covers this case (untagged, or tagged with one of its tags) holds."""
    covering = {t.key for t in suite.thresholds if t.tag is None or t.tag in case.tags}
    return all(t.holds for t in result.thresholds if t.key in covering)


def _scores_line(result: CaseResult) -> str:
    return "; ".join(f"{c.check}: {c.score.value:.2f} ({c.score.explanation})" for c in result.checks)


def _threshold_report(res: ThresholdResult, suite: SuiteResult, th: Threshold) -> str:
    if res.value is None:
        return f"{res.rule}: no case{' tagged ' + th.tag if th.tag else ''} produced metric '{th.metric}'"
    shown = suite.failing_cases(th.tag, metric=th.metric, higher_is_better=res.higher_is_better)
    over = f"{res.n_cases} cases" + (f" tagged '{th.tag}'" if th.tag else "")
    return f"{res.key} = {fmt_result(res)}, needs {res.rule.split(' ', 1)[1]} (over {over}); failing cases: {shown or 'none'}"


class _State:
    """Per-session: which suites were selected, and their results once evaluated."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.collected_files = 0
        self.skipped_yaml: list[Path] = []  # YAML files seen but not taken as suites (one line says so)
        self.suites: dict[str, Suite] = {}
        self.run: RunResult | None = None
        self.baseline: RunResult | None = None

    def suite_result(self, suite: Suite) -> SuiteResult:
        if self.run is None:
            raise HarnessError("suites were not evaluated (internal error: pytest_runtestloop did not run)")
        return self.run.suites[suite.path]

    def evaluate(self) -> None:
        opt = self.config.getoption
        candidate = ModelSpec.from_options(opt("--model"), opt("--adapter"), backend=opt("--backend"),
                                           base_url=opt("--base-url"), fingerprint=opt("--fingerprint"),
                                           max_concurrency=opt("--max-concurrency"))
        base = baseline_spec(opt("--baseline"), candidate) if opt("--baseline") else None
        self.run, self.baseline = evaluate(list(self.suites.values()), candidate, base, batch_size=opt("--batch-size"),
                                           no_cache=opt("--no-cache"), allow_missing=opt("--allow-missing"))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash[STATE]
    for item in session.items:
        if isinstance(item, _SuiteItem):
            state.suites.setdefault(item.suite.path, item.suite)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session):
    state = session.config.stash[STATE]
    if state.suites and not session.config.option.collectonly:
        capman = session.config.pluginmanager.getplugin("capturemanager")
        try:
            with capman.global_and_fixture_disabled():  # let progress bars reach the terminal
                state.evaluate()
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None
    return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash[STATE]
    path = session.config.getoption("--results")
    if path and state.run is not None:
        state.run.write_json(path)
