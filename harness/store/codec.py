"""RunResult ⇄ store rows. Everything a report needs is stored; nothing is recomputed on load."""

from __future__ import annotations

import hashlib
import json
import platform
import sqlite3
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.model_io import ModelIdentity, Prompt
from harness.results import CaseResult, CheckResult, RunResult, SuiteResult, ThresholdResult
from harness.scorer_api import Score

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


def insert_run(conn: sqlite3.Connection, run: RunResult, *, created_at: str, baseline_run: int | None,
               provenance: dict[str, Any]) -> int:
    ident = run.identity
    cur = conn.execute(
        "INSERT INTO runs (created_at, model, adapter, model_sha256, adapter_sha256, tokenizer_sha256,"
        " identity_details, baseline_identity, baseline_run, harness_version, versions, provenance, seconds, verdict)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (created_at, ident.model, ident.adapter, ident.model_sha256, ident.adapter_sha256, ident.tokenizer_sha256,
         dumps(ident.details),
         dumps(asdict(run.baseline)) if run.baseline else None, baseline_run, run.harness_version,
         dumps(versions(ident)), dumps(provenance), float(run.seconds), "pass" if run.passed else "fail"),
    )
    run_id = cur.lastrowid
    for pos, (path, suite) in enumerate(run.suites.items()):
        sha, generation = suite_file_info(path)
        conn.execute(
            "INSERT INTO suites VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, path, pos, suite.name, sha, dumps(generation) if generation is not None else None,
             suite.skipped, dumps(suite.metrics), suite.verdict, suite.rendered_prompt),
        )
        conn.executemany(
            "INSERT INTO thresholds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, path, i, t.key, t.rule, t.line, _num(t.value), t.n_cases, bool(t.holds),
              bool(t.higher_is_better), float(t.max_regression), _num(t.baseline), _num(t.drop_upper), t.decision)
             for i, t in enumerate(suite.thresholds)],
        )
        conn.executemany(
            "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, path, i, c.case_id, c.line, dumps(_prompt_json(c.prompt)), c.output, dumps(list(c.tags)),
              bool(c.critical), bool(c.passed), dumps(list(c.samples)), _num(c.pass_fraction))
             for i, c in enumerate(suite.cases.values())],
        )
        conn.executemany(
            "INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, path, c.case_id, i, chk.check, float(chk.score.value), bool(chk.score.passed),
              chk.score.explanation, dumps(_metrics_with_error(chk.score)))
             for c in suite.cases.values() for i, chk in enumerate(c.checks)],
        )
    return run_id


# A check that could not be scored keeps its error message beside its metrics (no schema change).
_ERROR_KEY = "__error__"


def _metrics_with_error(score: Score) -> dict:
    return {**score.metrics, _ERROR_KEY: score.error} if score.error else dict(score.metrics)


def read_run(conn: sqlite3.Connection, run_id: int) -> RunResult | None:
    conn.row_factory = sqlite3.Row
    row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    scores: dict[tuple[str, str], list[CheckResult]] = {}
    for s in conn.execute("SELECT * FROM scores WHERE run_id = ? ORDER BY suite_path, case_id, position", (run_id,)):
        metrics = json.loads(s["metrics"])
        error = metrics.pop(_ERROR_KEY, None)
        score = Score(s["value"], bool(s["passed"]), s["explanation"], metrics, error)
        scores.setdefault((s["suite_path"], s["case_id"]), []).append(CheckResult(s["check"], score))
    suites: dict[str, SuiteResult] = {}
    for s in conn.execute("SELECT * FROM suites WHERE run_id = ? ORDER BY position", (run_id,)):
        suites[s["path"]] = SuiteResult(s["name"], s["path"], metrics=json.loads(s["metrics"]), skipped=s["skipped"],
                                        rendered_prompt=s["rendered_prompt"])
    for t in conn.execute("SELECT * FROM thresholds WHERE run_id = ? ORDER BY suite_path, position", (run_id,)):
        suites[t["suite_path"]].thresholds.append(ThresholdResult(
            t["key"], t["rule"], t["line"], t["value"], t["n_cases"], bool(t["holds"]),
            bool(t["higher_is_better"]), t["max_regression"], t["baseline"], t["drop_upper"], t["decision"]))
    for c in conn.execute("SELECT * FROM cases WHERE run_id = ? ORDER BY suite_path, position", (run_id,)):
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
