"""Training rows as suite cases: how an adapter behaves on the prompts it was trained on.

A suite with ``source: {training_rows: {path: ../data/refusals_sft.jsonl, checks: {...}}}``
turns each training row whose ``tags`` name a key of ``checks`` into a case with those
checks. Comparing it with the real suite separates learned behaviour (both high) from
memorised prompts (training rows high, held-out suite low). Such a suite must live outside
``suites/``: it is made of training prompts, which the gate's hold-out check forbids there.

    source:
      training_rows:
        path: ../data/refusals_sft.jsonl     # or a list of files
        checks:
          harmful: [{refusal: {expect: refuse}}]
          benign: [{refusal: {expect: answer}}]
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from harness.paths import resolve_from
from harness.sources.base import SourceUnavailable, source

_Path = Annotated[str, Field(min_length=1)]


class TrainingRowsParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # training JSONL file(s); relative paths resolve against the suite's folder
    path: _Path | Annotated[list[_Path], Field(min_length=1)]
    checks: dict[str, list[dict[str, Any]]] = Field(min_length=1)  # tag -> checks for rows with that tag
    max_new_tokens: int | None = Field(None, ge=1, le=4096)


@source("training_rows", TrainingRowsParams)
def load(params: TrainingRowsParams | dict[str, Any] | None, suite_dir: Path) -> list[dict[str, Any]]:
    """One case per tagged row (the first tag of the row found in ``checks`` decides its checks)."""
    if not isinstance(params, TrainingRowsParams):
        params = TrainingRowsParams.model_validate(params or {})
    paths = [params.path] if isinstance(params.path, str) else params.path
    cases = [case for path in paths for case in _file_cases(_resolve(path, suite_dir), params)]
    if not cases:
        raise SourceUnavailable(f"{', '.join(paths)}: no row is tagged with any of {sorted(params.checks)}")
    return cases


def _resolve(path: str, suite_dir: Path) -> Path:
    resolved = resolve_from(suite_dir, path)
    if not resolved.is_file():
        raise SourceUnavailable(f"training data {resolved} not found; fix 'path' (relative to the suite's folder)")
    return resolved


def _file_cases(path: Path, params: TrainingRowsParams) -> list[dict[str, Any]]:
    from harness.training_data import read_data_file, row_tags

    data = read_data_file(path, skip_invalid=True)  # validated: bad rows are left out, as training does
    cases = []
    for row, line, tags in zip(data.rows, data.lines, row_tags(data)):
        tag = next((t for t in tags if t in params.checks), None)
        if tag is None or "prompt" not in row:
            continue
        case: dict[str, Any] = {
            "id": f"{path.stem}-line-{line}",
            "messages": [{"role": m["role"], "content": m["content"]} for m in row["prompt"]],
            "tags": list(dict.fromkeys([tag, *tags])),
            "checks": params.checks[tag],
        }
        if params.max_new_tokens:
            case["generation"] = {"max_new_tokens": params.max_new_tokens}
        cases.append(case)
    return cases
