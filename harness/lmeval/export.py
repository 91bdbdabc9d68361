"""Write suites as lm-eval task directories (``harness export-lm-eval``).

For a suite named ``refusals`` the exporter writes ``OUT/harness_refusals/`` holding:

* ``harness_refusals.yaml`` — the task: ``generate_until`` for cases scored on generated
  text (greedy, the case's ``max_new_tokens``), ``multiple_choice`` for cases scored by
  log-likelihood (every continuation their checks ask about, delimiter included);
* ``harness_refusals.jsonl`` — one document per case;
* ``utils.py`` — the hooks lm-eval calls; they delegate to ``harness.lmeval.runtime``, i.e.
  to the harness's own scorers.

Prompts are written already rendered: chat cases through the chat template of the model
named at export time (the same ``apply_chat_template`` call the HF backend makes), so the
task needs no ``--apply_chat_template`` and lm-eval tokenises exactly what the harness does.
Run it with the model it was exported for.

lm-eval gives a task one output type and one set of generation settings, so a suite that
mixes them becomes a group ``harness_<suite>`` of subtasks (``_loglikelihood``,
``_generate``, ``_generate_2`` ...), whose ``pass_rate`` is the size-weighted mean — the
suite-wide pass rate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import __version__
from harness.backend import Prompt
from harness.errors import HarnessError, SuiteError
from harness.schema import Case, Generation, Suite

from . import yaml_text

UTILS = '''"""lm-eval hooks of an adapter-harness suite (written by `harness export-lm-eval`).

Scoring is the harness's own (harness.lmeval.runtime), so lm-eval reports the same
per-case scores and metrics as `harness run` on the same model and adapter.
"""

from pathlib import Path

from harness.lmeval import runtime

HERE = Path(__file__).resolve().parent


def load_docs(data_file, **_):
    # lm-eval passes the task's metadata (and --model_args) here too; only data_file matters.
    return runtime.load_docs(HERE / data_file)


doc_to_text = runtime.doc_to_text
doc_to_choice = runtime.doc_to_choice
doc_to_target = runtime.doc_to_target
process_results = runtime.process_results
'''


@dataclass
class TaskPart:
    """Cases of one suite that lm-eval can run as one task."""

    kind: str  # "generate" | "loglikelihood"
    generation: Generation | None
    cases: list[Case] = field(default_factory=list)
    name: str = ""


@dataclass
class Exported:
    suite: Suite
    directory: Path
    task: str  # what to pass to lm_eval --tasks (a task, or the group of the parts)
    parts: list[TaskPart]


def task_name(suite: Suite) -> str:
    """``harness_<suite name>`` in lm-eval's usual lower_snake form.

    >>> task_name(Suite(name="Finance Advice", cases=[], thresholds=[{"metric": "pass_rate", "min": 0}]))
    'harness_finance_advice'
    """
    return "harness_" + (re.sub(r"[^a-z0-9]+", "_", suite.name.lower()).strip("_") or "suite")


def split_parts(suite: Suite) -> list[TaskPart]:
    """Group the suite's cases by output type and generation settings, in case order."""
    parts: dict[tuple, TaskPart] = {}
    for case in suite.cases:
        needs = {check.spec.needs for check in suite.checks_for(case)}
        if len(needs) > 1:
            raise SuiteError(
                suite.path, case.line, f"case {case.id!r}",
                "mixes checks on generated text with log-likelihood checks; an lm-eval task has one output "
                "type, so split it into two cases to export it",
            )
        if needs == {"loglikelihood"}:
            key: tuple = ("loglikelihood",)
            parts.setdefault(key, TaskPart("loglikelihood", None))
        else:
            gen = suite.generation_for(case)
            # Greedy decoding ignores temperature and seed, so they do not split greedy cases.
            key = ("generate", gen.max_new_tokens, gen.greedy) + (() if gen.greedy else (gen.temperature, gen.seed))
            parts.setdefault(key, TaskPart("generate", gen))
        parts[key].cases.append(case)
    ordered = list(parts.values())
    base = task_name(suite)
    if len(ordered) == 1:
        ordered[0].name = base
        return ordered
    counts: dict[str, int] = {}
    for part in ordered:
        counts[part.kind] = counts.get(part.kind, 0) + 1
        part.name = f"{base}_{part.kind}" + (f"_{counts[part.kind]}" if counts[part.kind] > 1 else "")
    return ordered


def export_suites(
    suites: list[Suite], out: Path, render: Callable[[Prompt], str], rendered_for: str
) -> list[Exported]:
    """Write one task directory per suite under ``out``; ``render`` turns a prompt into model input text."""
    done = []
    names: dict[str, str] = {}
    for suite in suites:
        if suite.skip_reason:
            raise HarnessError(f"{suite.path}: cannot export, the suite's cases are unavailable: {suite.skip_reason}")
        if not suite.cases:
            continue  # only 'lm_eval:' tasks: they are lm-eval tasks already
        base = task_name(suite)
        if base in names:
            raise HarnessError(f"{suite.path}: suite name gives task '{base}', as {names[base]} does; rename one suite")
        names[base] = suite.path
        done.append(_export_one(suite, split_parts(suite), out / base, render, rendered_for))
    return done


def _export_one(suite: Suite, parts: list[TaskPart], directory: Path, render, rendered_for: str) -> Exported:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "utils.py").write_text(UTILS, encoding="utf-8")
    tagged = [(th.metric, th.tag, th.key) for th in suite.thresholds if th.tag is not None]
    header = yaml_text.header(suite.path, __version__, rendered_for)
    for part in parts:
        docs = [_doc(suite, case, part.kind, render, tagged) for case in part.cases]
        data_file = f"{part.name}.jsonl"
        with open(directory / data_file, "w", encoding="utf-8") as handle:
            for doc in docs:
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
        part_tags = {t for case in part.cases for t in case.tags}
        keys = {key for _, tag, key in tagged if tag in part_tags}
        metrics = sorted({"pass_rate"} | _metric_names(suite, part.cases) | keys)
        lower = frozenset(th.key for th in suite.thresholds if not th.higher_is_better)
        config = yaml_text.task_config(part.name, part.kind, part.generation, data_file, metrics, suite.path, lower)
        (directory / f"{part.name}.yaml").write_text(header + config, encoding="utf-8")
    task = parts[0].name
    if len(parts) > 1:
        task = task_name(suite)
        config = yaml_text.group_config(task, [p.name for p in parts])
        (directory / f"{task}.yaml").write_text(header + config, encoding="utf-8")
    return Exported(suite, directory, task, parts)


def _metric_names(suite: Suite, cases: list[Case]) -> set[str]:
    names: set[str] = set()
    for case in cases:
        for check in suite.checks_for(case):
            names.update(check.spec.metric_names(check.params))
    return names


def _doc(suite: Suite, case: Case, kind: str, render, tagged: list[tuple[str, str, str]]) -> dict:
    prompt = suite.render(case)
    checks = suite.checks_for(case)
    doc = {
        "id": case.id,
        "line": case.line,
        "kind": kind,
        "text": render(prompt),
        "prompt": json.dumps(prompt if isinstance(prompt, str) else [list(m) for m in prompt], ensure_ascii=False),
        "checks": json.dumps([{c.name: c.params.model_dump(mode="json")} for c in checks], ensure_ascii=False),
        "tags": list(case.tags),
        "critical": case.critical,
        "tagged": [key for _, tag, key in tagged if tag in case.tags],
    }
    if kind == "loglikelihood":
        continuations = []
        for check in checks:
            for request in check.spec.requests(prompt, check.params) if check.spec.requests else []:
                if request.context != prompt:  # lm-eval's multiple_choice scores every choice after one context
                    raise SuiteError(
                        suite.path, case.line, f"case {case.id!r}",
                        f"check '{check.name}' scores a context other than the case prompt; it cannot be exported",
                    )
                continuations.append(request.continuation)
        doc["continuations"] = continuations
    return doc
