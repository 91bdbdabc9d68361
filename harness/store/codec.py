"""RunResult ⇄ store rows. Everything a report needs is stored; nothing is recomputed on load."""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from harness.model_io import ModelIdentity, Prompt
from harness.results import CaseResult, CheckResult, RunResult, SuiteResult, ThresholdResult
from harness.scorer_api import Score
from harness.store import schema as t

_VERSIONED = ("torch", "transformers", "peft")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, default=_scalar)


def _scalar(value: Any) -> Any:
    """numpy scalars (a custom scorer may return them) as plain Python numbers."""
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in the run store: {value!r}")


def versions(identity: ModelIdentity) -> dict[str, str]:
    """Library versions behind a run: what the backend recorded, else what is installed now."""
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        if name == "peft" and identity.adapter is None and name not in identity.details:
            continue  # no adapter: peft played no part in the run
        found = identity.details.get(name)
        if found is None:
            try:
                found = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        out[name] = str(found)
    return out


def suite_file_info(path: str) -> tuple[str | None, dict[str, Any] | None]:
    """(sha256 of the suite file, its 'generation' settings) — (None, None) where it is gone."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None, None
    generation = None
    try:
        import yaml

        data = yaml.safe_load(raw)
        if isinstance(data, dict) and isinstance(data.get("generation"), dict):
            generation = data["generation"]
    except Exception:  # a hash is still worth recording for an unparsable file
        generation = None
    return hashlib.sha256(raw).hexdigest(), generation


def insert_run(conn: sa.Connection, run: RunResult, *, created_at: str, baseline_run: int | None,
               provenance: dict[str, Any]) -> int:
    ident = run.identity
    run_id = conn.execute(t.runs.insert().returning(t.runs.c.id), dict(
        created_at=created_at, model=ident.model, adapter=ident.adapter, model_sha256=ident.model_sha256,
        adapter_sha256=ident.adapter_sha256, tokenizer_sha256=ident.tokenizer_sha256,
        identity_details=dumps(ident.details),
        baseline_identity=dumps(asdict(run.baseline)) if run.baseline else None, baseline_run=baseline_run,
        harness_version=run.harness_version, versions=dumps(versions(ident)), provenance=dumps(provenance),
        seconds=float(run.seconds), verdict="pass" if run.passed else "fail",
    )).scalar_one()
    suite_rows, threshold_rows, case_rows, score_rows = [], [], [], []
    for pos, (path, suite) in enumerate(run.suites.items()):
        sha, generation = suite_file_info(path)
        suite_rows.append(dict(
            run_id=run_id, path=path, position=pos, name=suite.name, sha256=sha,
            generation=dumps(generation) if generation is not None else None, skipped=suite.skipped,
            metrics=dumps(suite.metrics), verdict=suite.verdict, rendered_prompt=suite.rendered_prompt,
            not_evaluated=dumps(suite.not_evaluated), critical_not_evaluated=dumps(suite.critical_not_evaluated)))
        threshold_rows += [dict(
            run_id=run_id, suite_path=path, position=i, key=th.key, rule=th.rule, line=th.line, value=_num(th.value),
            n_cases=th.n_cases, holds=bool(th.holds), higher_is_better=bool(th.higher_is_better),
            max_regression=float(th.max_regression), baseline=_num(th.baseline), drop_upper=_num(th.drop_upper),
            decision=th.decision) for i, th in enumerate(suite.thresholds)]
        case_rows += [dict(
            run_id=run_id, suite_path=path, position=i, case_id=c.case_id, line=c.line,
            prompt=dumps(_prompt_json(c.prompt)), output=c.output, tags=dumps(list(c.tags)), critical=bool(c.critical),
            passed=bool(c.passed), samples=dumps(list(c.samples)), pass_fraction=_num(c.pass_fraction))
            for i, c in enumerate(suite.cases.values())]
        score_rows += [dict(
            run_id=run_id, suite_path=path, case_id=c.case_id, position=i, check=chk.check,
            value=float(chk.score.value), passed=bool(chk.score.passed), explanation=chk.score.explanation,
            metrics=dumps(_metrics_with_error(chk.score)))
            for c in suite.cases.values() for i, chk in enumerate(c.checks)]
    for table, rows in ((t.suites, suite_rows), (t.thresholds, threshold_rows), (t.cases, case_rows),
                        (t.scores, score_rows)):
        if rows:  # executemany: batched into multi-row INSERTs by SQLAlchemy on both engines
            conn.execute(table.insert(), rows)
    return run_id


# A check that could not be scored keeps its error message beside its metrics (no schema change).
_ERROR_KEY = "__error__"


def _metrics_with_error(score: Score) -> dict:
    return {**score.metrics, _ERROR_KEY: score.error} if score.error else dict(score.metrics)


def read_run(conn: sa.Connection, run_id: int) -> RunResult | None:
    row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
    if row is None:
        return None

    def rows_of(table: sa.Table, *order: str):
        query = sa.select(table).where(table.c.run_id == run_id).order_by(*(table.c[o] for o in order))
        return conn.execute(query).mappings()

    scores: dict[tuple[str, str], list[CheckResult]] = {}
    for s in rows_of(t.scores, "suite_path", "case_id", "position"):
        metrics = json.loads(s["metrics"])
        error = metrics.pop(_ERROR_KEY, None)
        score = Score(s["value"], bool(s["passed"]), s["explanation"], metrics, error)
        scores.setdefault((s["suite_path"], s["case_id"]), []).append(CheckResult(s["check"], score))
    suites: dict[str, SuiteResult] = {}
    for s in rows_of(t.suites, "position"):
        suites[s["path"]] = SuiteResult(
            s["name"], s["path"], metrics=json.loads(s["metrics"]), skipped=s["skipped"],
            rendered_prompt=s["rendered_prompt"], not_evaluated=json.loads(s["not_evaluated"] or "{}"),
            critical_not_evaluated=json.loads(s["critical_not_evaluated"] or "{}"))  # NULL: a run before v6
    for th in rows_of(t.thresholds, "suite_path", "position"):
        suites[th["suite_path"]].thresholds.append(ThresholdResult(
            th["key"], th["rule"], th["line"], th["value"], th["n_cases"], bool(th["holds"]),
            bool(th["higher_is_better"]), th["max_regression"], th["baseline"], th["drop_upper"], th["decision"]))
    for c in rows_of(t.cases, "suite_path", "position"):
        suites[c["suite_path"]].cases[c["case_id"]] = CaseResult(
            c["case_id"], c["line"], _prompt_from_json(json.loads(c["prompt"])), c["output"],
            scores.get((c["suite_path"], c["case_id"]), []), tuple(json.loads(c["tags"])), bool(c["critical"]),
            tuple(json.loads(c["samples"])), c["pass_fraction"])
    baseline = json.loads(row["baseline_identity"]) if row["baseline_identity"] else None
    return RunResult(
        identity=ModelIdentity(row["model"], row["adapter"], row["model_sha256"], row["adapter_sha256"],
                               json.loads(row["identity_details"]), tokenizer_sha256=row["tokenizer_sha256"]),
        suites=suites,
        seconds=row["seconds"],
        harness_version=row["harness_version"],
        baseline=ModelIdentity(**baseline) if baseline else None,
    )


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _prompt_json(prompt: Prompt) -> Any:
    return prompt if isinstance(prompt, str) else [list(m) for m in prompt]


def _prompt_from_json(data: Any) -> Prompt:
    return data if isinstance(data, str) else tuple((role, content) for role, content in data)
