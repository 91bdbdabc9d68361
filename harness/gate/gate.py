"""``harness gate``: accept an adapter into the registry only if the suites say so.

Order of work: adapter files checked → hold-out check → applied-check (the adapter must
change the model's log-probs on a canary prompt) and integrity against the base model →
every suite on baseline and candidate (:func:`harness.evaluate.evaluate`) → verdict. An
accepted adapter is published atomically with a manifest; a rejected one writes nothing.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.backend import ServerOptions
from harness.errors import HarnessError
from harness.gate import manifest as registry
from harness.results import RunResult

CANARY_CONTEXT = (("user", "Name three colours of the rainbow and one fruit."),)
CANARY_CONTINUATION = " Red, orange and yellow; and a banana."
APPLIED_TOLERANCE = 1e-6


@dataclass
class GateResult:
    accepted: bool
    candidate: RunResult
    baseline: RunResult | None
    published: Path | None
    table: str
    failures: list[str]


def adapter_name(adapter_dir: Path, name: str | None) -> str:
    """--name, else the training run's name (training.json), else the folder name."""
    if name:
        return registry.check_name(name)
    info = _training_info(adapter_dir)
    guess = (info or {}).get("name") or adapter_dir.resolve().name
    return registry_name(str(guess))


def registry_name(guess: str) -> str:
    """A registry name made from anything (a run name, a folder, a served model's name)."""
    return registry.check_name(re.sub(r"[^A-Za-z0-9_.-]+", "-", guess).strip(".-") or "adapter")


def applied_check(model: str | None, adapter: str, *, batch_size: int = 8) -> tuple[str | None, float, float]:
    """(base weights sha256, base log-prob, adapter log-prob) of the canary; refuses a no-op adapter.

    Loading the adapter verifies its integrity against the base model actually loaded
    (``harness.integrity.verify_adapter``, as every adapter load does).
    """
    from harness.backend import LoglikelihoodRequest
    from harness.backends import load_backend

    request = [LoglikelihoodRequest(CANARY_CONTEXT, CANARY_CONTINUATION)]
    base = load_backend(model, None, batch_size=batch_size, progress=False)
    base_sha = base.identity.model_sha256
    base_lp = base.loglikelihood(request)[0]
    # verifies the adapter's integrity; both stay loaded (harness.backends keeps them) for the evaluation
    tuned = load_backend(model, adapter, batch_size=batch_size, progress=False)
    tuned_lp = tuned.loglikelihood(request)[0]
    if abs(tuned_lp - base_lp) <= APPLIED_TOLERANCE:
        raise HarnessError(
            f"adapter {adapter} does not change the model: the canary's log-prob is {tuned_lp:.6f} with and "
            "without it. The adapter was not applied (wrong target modules for this architecture?) or its "
            "weights are all zero (an untrained LoRA); refusing to score it"
        )
    return base_sha, base_lp, tuned_lp


def compare_table(candidate: RunResult, baseline: RunResult | None) -> str:
    """suite, metric, base, adapter, delta, threshold, pass — one row per threshold."""
    from harness.table import fmt, fmt_result, render

    rows = []
    for suite in candidate.suites.values():
        if suite.skipped:
            rows.append([suite.name, "(skipped)", "", "", "", suite.skipped[:50], "skip"])
            continue
        for t in suite.thresholds:
            delta = "—" if t.value is None or t.baseline is None else f"{t.value - t.baseline:+.3f}"
            verdict = "pass" if t.holds and not t.regressed else "REGRESSED" if t.holds else "FAIL"
            worse = "drop" if t.higher_is_better else "rise"  # which way a regression goes
            bound = "" if t.drop_upper is None else f", {worse} bound {t.drop_upper:+.3f}"
            rule = t.rule.split(" ", 1)[1] + (f" (max {worse} {t.max_regression:g}{bound})" if baseline else "")
            rows.append([suite.name, t.key, fmt(t.baseline), fmt_result(t), delta, rule, verdict])
        critical = suite.failed_critical
        if critical:
            shown = ", ".join(critical)[:50]
            rows.append([suite.name, "critical cases", "", f"{len(critical)} failed", "", shown, "FAIL"])
    return render(["suite", "metric", "base", "adapter", "delta", "threshold", "pass"], rows)


def failures(candidate: RunResult) -> list[str]:
    """One line per case that could not be scored, failing threshold, regression or critical case."""
    from harness.table import fmt_result

    out = []
    for suite in candidate.suites.values():
        if suite.skipped:
            continue
        for case in suite.cases.values():
            for error in case.errors:
                out.append(f"{suite.path}:{case.line}: case {case.case_id} could not be scored: {error}")
        for t in suite.thresholds:
            value = "no value" if t.value is None else fmt_result(t)
            if not t.holds:
                out.append(f"{suite.path}:{t.line}: {t.rule} does not hold ({value})")
            elif t.regressed:
                out.append(f"{suite.path}:{t.line}: {t.regression_headline()}: {t.regression_line()}")
        for case in suite.cases.values():
            if case.critical and not case.passed:
                out.append(f"{suite.path}:{case.line}: critical case {case.case_id} failed")
        for case_id, line, why in suite.unscored_critical():
            out.append(f"{suite.path}:{line}: critical case {case_id} not evaluated: {why}")
    return out


def build_manifest(adapter_dir: Path | None, name: str, candidate: RunResult, baseline: RunResult | None,
                   baseline_label: str, suite_paths: list[str]) -> dict[str, Any]:
    """Everything needed to trace an accepted adapter back to its weights, data and evidence."""
    info = (_training_info(adapter_dir) if adapter_dir else None) or {}
    ident = candidate.identity
    metrics = {}
    for path, suite in candidate.suites.items():
        before = baseline.suites[path].metrics if baseline and path in baseline.suites else None
        metrics[suite.name] = {
            "path": path, "verdict": suite.verdict, "before": before, "after": suite.metrics,
            "thresholds": [t.to_dict() for t in suite.thresholds],
        }
    return {
        "manifest_version": 1,
        "name": name,
        "version": None,  # set when published
        "verdict": "accepted",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # the tokenizer / chat template hash it was trained with (else the one it was evaluated with):
        # every later load refuses a model that would render its prompts differently
        "base_model": {"id": ident.model, "weights_sha256": ident.model_sha256,
                       "tokenizer_sha256": (info.get("base_model") or {}).get("tokenizer_sha256")
                       or ident.tokenizer_sha256,
                       "training_id": (info.get("base_model") or {}).get("id")},
        "adapter": {"source": str(adapter_dir), "weights_sha256": registry.sha256_file(adapter_dir / registry.WEIGHTS)}
        if adapter_dir else {},
        "baseline": {"kind": baseline_label, "model": baseline.identity.label() if baseline else None,
                     "adapter_sha256": baseline.identity.adapter_sha256 if baseline else None},
        "recipe": info.get("recipe"),
        "method": info.get("method"),
        "data": [{"name": d.get("name"), "sha256": d.get("sha256"), "rows": d.get("rows")}
                 for d in info.get("data", [])],
        "seed": info.get("seed"),
        "suites": [{"path": p, "sha256": registry.sha256_file(Path(p))} for p in suite_paths],
        "metrics": metrics,
        "versions": _versions(),
    }


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("adapter-harness", "torch", "transformers", "peft", "trl"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _training_info(adapter_dir: Path) -> dict[str, Any] | None:
    path = adapter_dir / "training.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None


def baseline_for(baseline: str, name: str, registry_dir: str | Path, model: str | None):
    """The ModelSpec to compare with: the base model, or the last accepted version of ``name``."""
    from harness.evaluate import ModelSpec

    if baseline == "base":
        return ModelSpec(model, None)
    if baseline != "previous":
        raise HarnessError(f"--baseline must be 'base' or 'previous', got {baseline!r}")
    prev = registry.latest(registry_dir, name)
    if prev is None:
        raise HarnessError(
            f"--baseline previous: no accepted adapter named {name!r} in {registry_dir}/ yet; use --baseline base"
        )
    return ModelSpec(model, str(prev))


def run_gate(adapter: str, **kwargs: Any) -> GateResult:
    """The whole gate for one adapter (see the module docstring)."""
    return run_gate_many([adapter], **kwargs)[0]


def run_gate_many(
    adapters: Sequence[str],
    *,
    model: str | None = None,
    baseline: str = "base",
    suites: list[str] | None = None,
    name: str | None = None,
    registry_dir: str = "adapters",
    training: list[str] | None = None,
    holdout_threshold: float | None = None,
    batch_size: int = 32,
    progress: bool = True,
    no_cache: bool = False,
    allow_missing: Sequence[str] = (),
    server: ServerOptions | None = None,
) -> list[GateResult]:
    """The gate for one or more adapters against one baseline, evaluated once (Holm-corrected when
    several). Raises HarnessError before scoring on a refusal (bad adapter, leakage, missing suite)."""
    from harness.backends.hf.loading import check_adapter_dir
    from harness.evaluate import ModelSpec, evaluate_many
    from harness.gate.candidates import holm_adjust
    from harness.gate.holdout import DEFAULT_THRESHOLD, check_holdout
    from harness.loader import find_suites, load_suite, suite_allowed_missing

    if not adapters:
        raise HarnessError("give at least one adapter to gate")
    if name and len(adapters) > 1:
        raise HarnessError("--name names one adapter; with several, each takes its training run's name")
    if server is None:
        adapter_dirs: list[Path | None] = [check_adapter_dir(a) for a in adapters]
        names = [adapter_name(d, name) for d in adapter_dirs]
        base_spec = baseline_for(baseline, names[0], registry_dir, model)
    else:  # served names, not folders (harness/gate/served.py)
        if baseline != "base":
            raise HarnessError("through a server the baseline is the served base model: --baseline base")
        adapter_dirs = [None] * len(adapters)
        names = [registry.check_name(name) if name else registry_name(a) for a in adapters]
        base_spec = ModelSpec(model, None, server)
    suite_paths = [str(p) for p in find_suites(suites or ["suites"])]

    loaded = [load_suite(p) for p in suite_paths]
    missing = [s for s in loaded if s.skip_reason and not suite_allowed_missing(s, allow_missing)]
    if missing:  # an adapter accepted without one of its suites would be accepted on less evidence
        raise HarnessError("the gate runs every suite, and these cannot run here (not evaluated):\n  "
                           + "\n  ".join(f"{s.path}: {s.skip_reason}" for s in missing)
                           + "\nprovide what they need, or accept them as missing with --allow-missing "
                           + " ".join(s.name for s in missing))
    for s in loaded:
        if s.skip_reason:
            _say(f"warning: {s.path} not evaluated ({s.skip_reason}); allowed by --allow-missing", progress)
    loaded = [s for s in loaded if not s.skip_reason]
    suite_paths = [s.path for s in loaded]
    holdout = check_holdout(training or ["training/data"], suite_paths, loaded_suites=loaded,
                            threshold=holdout_threshold or DEFAULT_THRESHOLD)
    if not holdout.passed:
        raise HarnessError("training data leaks into the suites; remove or rewrite these rows:\n" + holdout.summary())
    _say(f"hold-out check passed ({holdout.n_training} training prompts vs {holdout.n_suite} suite prompts)", progress)
    for adapter, adapter_dir in zip(adapters, adapter_dirs):
        if server is not None:
            from harness.gate.served import served_applied_check

            _say(f"applied-check passed for {adapter}: {served_applied_check(model, adapter, server)}", progress)
            continue
        base_sha, base_lp, tuned_lp = applied_check(model, str(adapter_dir), batch_size=batch_size)
        _say(f"applied-check passed for {adapter_dir}: canary log-prob {base_lp:.3f} (base) -> {tuned_lp:.3f}", progress)

    specs = [ModelSpec(model, a, server) if server else ModelSpec(model, str(d)) for a, d in zip(adapters, adapter_dirs)]
    runs, base_run = evaluate_many(loaded, specs, base_spec,
                                   batch_size=batch_size, progress=progress, no_cache=no_cache,
                                   allow_missing=allow_missing)
    holm_adjust(runs, base_run, min((s.confidence for s in loaded), default=0.95))
    results = []
    for adapter, adapter_dir, adapter_label, candidate in zip(adapters, adapter_dirs, names, runs):
        published = None
        if candidate.passed and candidate.store_error:
            # an accepted adapter is published only with its evidence on record
            raise HarnessError(f"{adapter_dir or adapter} passed, but its run could not be saved to the run store "
                               f"({candidate.store_error}); nothing was published. Repair or move the store "
                               "(harness runs shows where; ADAPTER_HARNESS_STORE points elsewhere) and run the gate again")
        from harness.backends import shard

        if candidate.passed and shard.is_main():  # a data-parallel launch publishes once
            doc = build_manifest(adapter_dir, adapter_label, candidate, base_run, baseline, suite_paths)
            if server is not None:
                from harness.gate.served import served_adapter_fields, server_info

                doc["adapter"], doc["server"] = served_adapter_fields(adapter, server), server_info(server)
            published = registry.publish(adapter_dir, registry_dir, adapter_label, doc)
        results.append(GateResult(candidate.passed, candidate, base_run, published,
                                  compare_table(candidate, base_run), failures(candidate)))
    return results


def _say(text: str, progress: bool) -> None:
    if progress:
        print(text, file=sys.stderr)
