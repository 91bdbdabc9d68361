"""What exactly was compared: model and adapter hashes, versions, suite file hashes, the adapter manifest."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.results import RunResult
from harness.store import RunInfo
from harness.store.codec import suite_file_info, versions


def run_facts(run: RunResult, info: RunInfo | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Ordered 'field → value' for one run. Without a stored ``info`` the facts are read live
    (installed versions, suite files as they are now on disk)."""
    ident = run.identity
    facts = {
        # one truth: the id the store gave this run when it was saved in this process, if not read from it
        "run id": str(info.id) if info else str(run.stored_id) if run.stored_id is not None else "(not stored)",
        "saved": info.created_at if info else "",
        "model": ident.model,
        "model sha256": ident.model_sha256 or "",
        "adapter": ident.adapter or "(none)",
        "adapter sha256": ident.adapter_sha256 or "",
        "harness version": run.harness_version,
        "evaluation time": f"{run.seconds:.1f} s",
    }
    for key, value in (info.versions if info else versions(ident)).items():
        facts[f"version: {key}"] = value
    for key, value in ident.details.items():
        if key not in ("torch", "transformers", "peft"):
            facts[f"backend: {key}"] = str(value)
    for path in run.suites:
        if info is not None and path in info.suite_sha256:
            sha, generation = info.suite_sha256[path], info.generation.get(path)
        else:
            sha, generation = suite_file_info(path)
        facts[f"suite {path}: sha256"] = sha or "(file not found)"
        if generation:
            facts[f"suite {path}: generation"] = json.dumps(generation, sort_keys=True)
    manifest = {**(info.provenance if info else {}), **(extra or {})}
    for key, value in _flatten(manifest).items():
        facts[f"manifest: {key}"] = value
    return facts


def facts_table(candidate: dict[str, str], baseline: dict[str, str] | None) -> list[tuple[str, str, str, bool]]:
    """Rows (field, baseline, candidate, differs) over the union of fields, candidate's order first."""
    base = baseline or {}
    keys = list(dict.fromkeys([*candidate, *base]))
    return [(k, base.get(k, ""), candidate.get(k, ""), baseline is not None and base.get(k) != candidate.get(k))
            for k in keys]


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{'data': {'sft': 'ab12'}} → {'data.sft': 'ab12'}."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return out
