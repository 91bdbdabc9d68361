"""Pydantic models of a suite file. One model per YAML mapping, all with extra="forbid"."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from harness.custom_scorer import load_custom
from harness.errors import HarnessError, did_you_mean, quote_hint
from harness.model_io import Prompt, as_messages
from harness.scorer_api import SCORERS, Params, ScorerSpec

CASE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
LM_EVAL_TASK = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # no .inf / .nan thresholds or settings


class Generation(Strict):
    """How cases are generated (suite default, overridable per case)."""

    max_new_tokens: int = Field(128, ge=1, le=4096)
    greedy: bool = True
    temperature: float = Field(1.0, gt=0)
    seed: int = 0
    # Repeats: k sampled completions per case (seeds seed .. seed + k - 1); each check must pass in
    # at least min_passes of them (default: all k). Per-case pass rates feed the paired tests.
    samples: int = Field(1, ge=1, le=64)
    min_passes: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _repeats(self) -> Generation:
        if self.samples > 1 and self.greedy:
            raise ValueError(f"samples: {self.samples} needs greedy: false (greedy decoding repeats one answer)")
        if self.min_passes is not None and self.min_passes > self.samples:
            raise ValueError(f"min_passes {self.min_passes} is more than samples {self.samples}")
        return self


class Message(Strict):
    role: Literal["system", "user", "assistant"]
    content: str = Field(min_length=1)


class Check(BaseModel):
    """One scorer applied to a case: written in YAML as ``- name: {params}``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=True)
    name: str
    spec: ScorerSpec
    params: Params

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, raw: Any) -> Any:
        if isinstance(raw, Check):
            return raw
        if isinstance(raw, str):  # "- politeness" with no parameters
            raw = {raw: None}
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ValueError("a check is one 'name: {parameters}' mapping, e.g. '- contains: {any: [budget]}'")
        (name, params), = raw.items()
        if not isinstance(name, str):
            raise ValueError(f"check name must be text, got {name!r}")
        if ":" in name:
            try:
                spec = load_custom(name)
            except HarnessError as exc:  # pydantic only collects ValueErrors into located errors
                raise ValueError(str(exc)) from None
        elif name in SCORERS:
            spec = SCORERS.get(name)
        else:
            raise ValueError(f"unknown check '{name}' — {did_you_mean(name, SCORERS.names())}")
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ValueError(f"parameters of check '{name}' must be a mapping, e.g. '{name}: {{...}}'")
        try:
            parsed = spec.params.model_validate(params)
        except Exception as exc:  # pydantic.ValidationError: flatten into one line
            raise ValueError(f"check '{name}': {_flatten(exc, spec.params)}") from None
        return {"name": name, "spec": spec, "params": parsed}


class Case(Strict):
    id: str = Field(pattern=CASE_ID)
    prompt: str | None = Field(None, min_length=1)
    messages: list[Message] | None = Field(None, min_length=1)
    tags: list[str] = []
    checks: list[Check] = []
    critical: bool = False
    template: Literal["chat", "raw"] | None = None
    generation: Generation | None = None
    _line: int = PrivateAttr(0)

    @model_validator(mode="after")
    def _one_prompt(self) -> Case:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a case needs exactly one of 'prompt' (text) or 'messages' (a chat list)")
        if self.messages is not None and self.template == "raw":
            raise ValueError("template 'raw' needs a text 'prompt', not 'messages'")
        return self

    @property
    def line(self) -> int:
        return self._line


class LmEvalTask(Strict):
    """An lm-eval task run on the suite's model (``lm_eval: [{task: truthfulqa_mc2, limit: 40}]``).

    Its reported metrics become suite metrics named ``<task>/<metric>`` (``truthfulqa_mc2/acc``;
    a filter other than lm-eval's default 'none' is kept: ``gsm8k/exact_match,strict-match``).
    """

    task: str = Field(pattern=LM_EVAL_TASK)
    num_fewshot: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=1)  # the first N documents, as lm-eval's --limit
    apply_chat_template: bool = False
    include_path: str | None = None  # more task configs; relative paths resolve against the suite file
    _line: int = PrivateAttr(0)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, raw: Any) -> Any:
        return {"task": raw} if isinstance(raw, str) else raw  # "- truthfulqa_mc2"

    @property
    def line(self) -> int:
        return self._line


def lm_eval_task_of(metric: str) -> str | None:
    """The lm-eval task a metric name refers to ('truthfulqa_mc2/acc' → 'truthfulqa_mc2'), else None.

    >>> lm_eval_task_of("truthfulqa_mc2/acc"), lm_eval_task_of("refusal_rate")
    ('truthfulqa_mc2', None)
    """
    task, sep, _ = metric.partition("/")
    return task if sep else None


def _in_unit_range(metric: str) -> bool:
    """Metrics that live in [0, 1]: pass rates, shares (``*_rate``), MC scores and every check's value."""
    return metric == "pass_rate" or metric.endswith("_rate") or metric in ("mc1", "mc2") or metric in SCORERS


class Threshold(Strict):
    """A bound on an aggregate metric, optionally over the cases with one tag."""

    metric: str
    tag: str | None = None
    min: float | None = None
    max: float | None = None
    max_regression: float | None = Field(None, ge=0)
    # Planning standard deviation of a per-case difference (candidate - baseline), for the power
    # check; default 0.5, the bound for [0, 1] scores. Set it lower only from a measured run.
    sd: float | None = Field(None, gt=0, le=1)
    _line: int = PrivateAttr(0)

    @model_validator(mode="after")
    def _bounded(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs 'min' or 'max' (or both)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}: no value can meet both")
        if _in_unit_range(self.metric):
            for bound, value in (("min", self.min), ("max", self.max)):
                if value is not None and not 0.0 <= value <= 1.0:
                    raise ValueError(f"{bound}: {value:g} can never be met: {self.metric} is between 0 and 1"
                                     + (f" (a share: write {value / 100:g} for {value:g}%)" if 1 < value <= 100 else ""))
        return self

    @property
    def key(self) -> str:
        return self.metric if self.tag is None else f"{self.metric}@{self.tag}"

    @property
    def higher_is_better(self) -> bool:
        return not (self.max is not None and self.min is None)

    @property
    def line(self) -> int:
        return self._line

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f">= {self.min:g}")
        if self.max is not None:
            parts.append(f"<= {self.max:g}")
        return f"{self.key} " + " and ".join(parts)


class Suite(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    generation: Generation = Generation()
    system_prompt: str | None = None
    template: Literal["chat", "raw"] = "chat"
    default_checks: list[Check] = []
    source: dict[str, dict[str, Any] | None] | None = None
    cases: list[Case] = []
    lm_eval: list[LmEvalTask] = []
    thresholds: list[Threshold] = Field(min_length=1)
    max_regression: float = Field(0.05, ge=0)
    # One-sided confidence of the regression rule: a threshold with max_regression holds only
    # when this upper confidence bound of the paired drop is <= the allowance (harness/stats.py).
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    # Absolute thresholds (min:/max:) hold on the point estimate by default; "bound" asks that the
    # one-sided confidence bound of the metric (lower for min:, upper for max:) meet them instead.
    absolute_rule: Literal["point", "bound"] = "point"
    _path: str = PrivateAttr("")
    _skip_reason: str | None = PrivateAttr(None)

    @field_validator("source")
    @classmethod
    def _one_source(cls, v: dict | None) -> dict | None:
        if v is not None and len(v) != 1:
            raise ValueError("'source' names exactly one case source, e.g. 'source: {truthfulqa: {split: eval}}'")
        return v

    @property
    def path(self) -> str:
        return self._path

    @property
    def skip_reason(self) -> str | None:
        return self._skip_reason

    def checks_for(self, case: Case) -> list[Check]:
        return [*case.checks, *self.default_checks]

    def generation_for(self, case: Case) -> Generation:
        return case.generation or self.generation

    def render(self, case: Case) -> Prompt:
        """The prompt a backend receives: raw text, or messages with the suite's system prompt."""
        if (case.template or self.template) == "raw" and case.prompt is not None:
            return case.prompt
        messages = [m.model_dump() for m in case.messages] if case.messages else [{"role": "user", "content": case.prompt}]
        if self.system_prompt and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return as_messages(messages)

    def metric_names(self) -> set[str]:
        names = {"pass_rate"}
        for case in self.cases:
            for check in self.checks_for(case):
                names.update(check.spec.metric_names(check.params))
        return names


def _flatten(exc: Exception, model: type[BaseModel]) -> str:
    """One line out of a pydantic ValidationError, with 'did you mean' on unknown fields."""
    errors = getattr(exc, "errors", None)
    if errors is None:
        return str(exc)
    out = []
    for err in errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            out.append(f"unknown parameter '{loc}' — {did_you_mean(str(err['loc'][-1]), model.model_fields)}")
        elif err["type"] == "missing":
            out.append(f"missing parameter '{loc}'")
        else:
            msg = err["msg"].removeprefix("Value error, ") + quote_hint(err)
            out.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(out)
