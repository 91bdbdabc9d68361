"""Training recipes: YAML → validated :class:`Recipe` → TRL configs (SFT, DPO, reward) + ``peft.LoraConfig``.

A recipe (``training/recipes/*.yaml``)::

    name: demo-sft
    method: sft                 # sft | dpo | reward
    base_model: embedded        # 'embedded' (SmolLM2-135M-Instruct), an HF id or a local model dir
    seed: 0
    data:                       # JSONL files relative to this file, or a data source
      - ../data/refusals_sft.jsonl
      - truthfulqa-train: {max_rows: 100}
    lora: {r: 16, alpha: 32, dropout: 0.05, target_modules: [q_proj, k_proj, v_proj, o_proj]}
    train: {learning_rate: 2.0e-4, epochs: 1, batch_size: 8, max_length: 256}
    dpo: {beta: 0.1}            # method: dpo only
    reward: {heldout_fraction: 0.2}   # method: reward only (a scalar reward model on preference pairs)
    init_adapter: ../../runs/demo/sft   # optional: continue training this adapter (SFT → DPO)

A recipe can also be the changes it makes to another (``harness.training.extends``)::

    extends: ../sft.yaml        # that recipe, with these keys over it
    name: sft-seed1
    seed: 1

Every mapping is strict (unknown keys are errors with a did-you-mean hint) and errors read
``file:line: field: message``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from harness.device import default_device
from harness.errors import SuiteError, did_you_mean
from harness.paths import resolve_from
from harness.training.extends import extended
from harness.yaml_safe import read_yaml

DEFAULT_LR = {"sft": 2e-4, "dpo": 5e-5, "reward": 2e-4}  # LoRA-typical; DPO moves a policy that is already close
DEFAULT_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
SOURCES = ("truthfulqa-train",)


class Strict(BaseModel):
    # allow_inf_nan=False: 'epochs: .inf' or a NaN learning rate is an error at validation, not a crash later
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LoraSection(Strict):
    """Maps onto ``peft.LoraConfig``."""

    r: int = Field(16, ge=1, le=512)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: list(DEFAULT_TARGETS), min_length=1)
    layers: list[int] | None = None  # peft's layers_to_transform; None = every layer

    def to_peft(self, task_type: str = "CAUSAL_LM") -> Any:
        """The LoraConfig; ``task_type="SEQ_CLS"`` (reward models) makes peft also train and save the ``score`` head."""
        from peft import LoraConfig

        return LoraConfig(
            r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=list(self.target_modules),
            layers_to_transform=self.layers, bias="none", task_type=task_type,
        )


class TrainSection(Strict):
    """Optimisation settings shared by SFT and DPO (TrainingArguments fields)."""

    learning_rate: float | None = Field(None, gt=0, le=1)  # None: DEFAULT_LR of the method
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)  # set: overrides epochs
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    max_length: int = Field(256, ge=16)
    warmup: float = Field(0.0, ge=0)  # < 1: fraction of the steps; >= 1: a number of steps
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    save_steps: int = Field(20, ge=1)  # checkpoint interval (for --resume)
    logging_steps: int = Field(5, ge=1)
    # Off by default: on CPU memory is plentiful and recomputing activations costs ~30% time.
    gradient_checkpointing: bool = False
    # SFT: batch rows of similar length (less padding, ~25% faster on the shipped data). None = on for sft.
    group_by_length: bool | None = None
    # SFT: the first `opening_tokens` answer tokens count `opening_weight` times in the loss
    # (harness.training.losses: that is where refuse-or-answer is decided). 0 / 1.0 = plain SFT.
    opening_tokens: int = Field(0, ge=0)
    opening_weight: float = Field(1.0, gt=0)
    # false: rows without a system message get an empty one, so a chat template that inserts a fixed
    # default system prompt (SmolLM2: 21 tokens, against 5 for an empty one) does not put it in every
    # training row: 15 % fewer tokens per shipped SFT step. Evaluation still renders the template as it
    # is, so training and evaluation see different prompts (docs/performance.md, session 20: not shipped).
    default_system_prompt: bool = True

    @model_validator(mode="after")
    def _opening_pair(self) -> TrainSection:
        # One without the other would silently train plain SFT.
        if bool(self.opening_tokens) != (self.opening_weight != 1.0):
            raise ValueError("opening_tokens and opening_weight go together: set both (e.g. opening_tokens: 4, "
                             "opening_weight: 10) or neither")
        return self


DPOLoss = Literal["sigmoid", "ipo", "hinge", "robust", "sigmoid_norm", "sft"]


class DPOSection(Strict):
    """DPO-only settings (``DPOConfig``)."""

    beta: float = Field(0.1, gt=0)
    # A list combines TRL's losses, weighted by loss_weights (1 each by default): [sigmoid, sft] is RPO,
    # DPO plus the chosen answers' negative log-likelihood.
    loss_type: DPOLoss | list[DPOLoss] = "sigmoid"
    loss_weights: list[float] | None = None
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)
    precompute_ref: bool = False  # compute reference log-probs once before training

    @property
    def losses(self) -> list[str]:
        return self.loss_type if isinstance(self.loss_type, list) else [self.loss_type]

    @model_validator(mode="after")
    def _weights_match(self) -> DPOSection:
        if self.loss_weights is not None and len(self.loss_weights) != len(self.losses):
            raise ValueError(f"loss_weights has {len(self.loss_weights)} weights for {len(self.losses)} loss types "
                             f"({', '.join(self.losses)}); give one weight per loss type")
        return self


class RewardSection(Strict):
    """Reward-model settings (``method: reward``): the held-out split and ``RewardConfig`` extras."""

    # Share of the pairs kept out of training to measure pairwise accuracy on (whole prompts, by seed).
    heldout_fraction: float = Field(0.2, ge=0, lt=1)
    # TRL's center_rewards_coefficient: pulls rewards towards mean zero (0.01 is typical); None = off.
    center_rewards: float | None = Field(None, ge=0)


def _data_item(item: Any) -> Any:
    """A JSONL path, a bare source name, or a one-key ``{source: {params}}`` mapping."""
    if isinstance(item, dict):
        if len(item) != 1:
            raise ValueError("a data source is one 'name: {parameters}' mapping, e.g. '- truthfulqa-train: {max_rows: 100}'")
        ((name, params),) = item.items()
        if name not in SOURCES:
            raise ValueError(f"unknown data source '{name}' — {did_you_mean(str(name), SOURCES)}")
        if params is not None and not isinstance(params, dict):
            raise ValueError(f"the parameters of '{name}' must be a mapping, got {params!r}")
        from harness.sources.truthfulqa_pairs import TruthfulQATrainParams

        try:
            TruthfulQATrainParams.model_validate(params or {})
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"{name}: {bad}") from None
    elif not isinstance(item, str):
        raise ValueError(f"a data entry is a JSONL path or a 'source: {{parameters}}' mapping, got {item!r}")
    elif not item.strip():
        raise ValueError("a data file path must not be empty")
    return item


class Recipe(Strict):
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    method: Literal["sft", "dpo", "reward"]
    base_model: str = Field("embedded", min_length=1)
    seed: int = 0
    data: list[Annotated[Any, AfterValidator(_data_item)]] = Field(min_length=1)  # paths, {source: params}
    skip_invalid_rows: bool = False
    sft_on_chosen: bool = False  # sft: preference files contribute their (prompt, chosen) pairs
    init_adapter: str | None = None
    lora: LoraSection | None = None
    train: TrainSection = Field(default_factory=TrainSection)
    dpo: DPOSection | None = None
    reward: RewardSection | None = None

    _path: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _consistent(self) -> Recipe:
        if self.dpo is not None and self.method != "dpo":
            raise ValueError("'dpo' settings need 'method: dpo'")
        if self.sft_on_chosen and self.method != "sft":
            raise ValueError("'sft_on_chosen' needs 'method: sft' (DPO uses both answers of a pair)")
        if self.reward is not None and self.method != "reward":
            raise ValueError("'reward' settings need 'method: reward'")
        if self.method != "sft" and self.train.group_by_length:
            raise ValueError(f"train.group_by_length is for 'method: sft' only "
                             f"(TRL's {self.method} pairs have no single length)")
        if self.method != "sft" and (self.train.opening_tokens or self.train.opening_weight != 1.0):
            raise ValueError(f"train.opening_tokens / opening_weight weight the SFT loss; 'method: {self.method}' "
                             "has its own loss, remove them")
        if self.method == "reward" and self.init_adapter:
            raise ValueError("'init_adapter' is not supported with 'method: reward': a reward model starts from the "
                             "base model with a new scalar head; remove init_adapter")
        if self.init_adapter and self.lora is not None:
            raise ValueError("set either 'lora' (a new adapter) or 'init_adapter' (continue that adapter's own LoRA), not both")
        return self

    # -------------------------------------------------------------- derived values
    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path:
        """Relative paths in the recipe resolve against its folder (the cwd for in-memory recipes)."""
        return self._path.parent if self._path else Path.cwd()

    @property
    def display_name(self) -> str:
        return self.name or (self._path.stem if self._path else f"{self.method}-adapter")

    @property
    def learning_rate(self) -> float:
        return self.train.learning_rate or DEFAULT_LR[self.method]

    @property
    def lora_or_default(self) -> LoraSection:
        return self.lora or LoraSection()

    @property
    def reward_or_default(self) -> RewardSection:
        return self.reward or RewardSection()

    def peft_config(self) -> Any:
        """The new adapter's LoraConfig; a reward model is a sequence classifier (SEQ_CLS)."""
        return self.lora_or_default.to_peft("SEQ_CLS" if self.method == "reward" else "CAUSAL_LM")

    def resolve(self, path: str) -> Path:
        return resolve_from(self.base_dir, path)

    def data_items(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        """(display name, source name or None, source params / {}) per data entry."""
        out = []
        for item in self.data:
            if isinstance(item, dict):
                ((name, params),) = item.items()
                out.append((name, name, params or {}))
            elif item in SOURCES:
                out.append((item, item, {}))
            else:
                out.append((item, None, {}))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The recipe as written plus the values its defaults resolved to (for training.json)."""
        data = self.model_dump(mode="json")
        data["train"]["learning_rate"] = self.learning_rate
        if not self.init_adapter:
            data["lora"] = self.lora_or_default.model_dump(mode="json")
        if self.method == "dpo":
            data["dpo"] = (self.dpo or DPOSection()).model_dump(mode="json")
        if self.method == "reward":
            data["reward"] = self.reward_or_default.model_dump(mode="json")
        data["name"] = self.display_name
        return data

    # -------------------------------------------------------------- TRL configs
    def trainer_args(self, output_dir: Path, max_steps: int | None = None) -> Any:
        """An ``SFTConfig``, ``DPOConfig`` or ``RewardConfig``: float32 on CPU, tqdm progress, step checkpoints."""
        t = self.train
        common: dict[str, Any] = dict(
            output_dir=str(output_dir), learning_rate=self.learning_rate, num_train_epochs=t.epochs,
            max_steps=max_steps or t.max_steps or -1, per_device_train_batch_size=t.batch_size,
            gradient_accumulation_steps=t.grad_accum, lr_scheduler_type=t.lr_scheduler, warmup_steps=t.warmup,
            weight_decay=t.weight_decay, max_grad_norm=t.max_grad_norm, seed=self.seed, data_seed=self.seed,
            max_length=t.max_length, activation_checkpointing=t.gradient_checkpointing,
            # float32 on CPU: bf16 autocast is ~400x slower on these CPUs, and TRL defaults bf16 to True.
            bf16=False, fp16=False, use_cpu=default_device() == "cpu",
            logging_steps=t.logging_steps, save_strategy="steps", save_steps=t.save_steps, save_total_limit=1,
            report_to="none", disable_tqdm=False, dataloader_num_workers=0, dataloader_pin_memory=False,
            train_sampling_strategy="group_by_length" if self.method == "sft" and t.group_by_length is not False else "random",
        )
        if self.method == "sft":
            from trl import SFTConfig

            return SFTConfig(**common)
        if self.method == "reward":
            from trl import RewardConfig

            return RewardConfig(**common, center_rewards_coefficient=self.reward_or_default.center_rewards)
        from trl import DPOConfig

        d = self.dpo or DPOSection()
        return DPOConfig(**common, beta=d.beta, loss_type=d.losses, loss_weights=d.loss_weights, label_smoothing=d.label_smoothing,
                         precompute_ref_log_probs=d.precompute_ref)


# ------------------------------------------------------------------ loading


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate one recipe file; errors are :class:`SuiteError` at ``file:line``."""
    path = Path(path)
    if path.is_file() and not path.read_bytes().strip():
        raise SuiteError(path, 1, None, "the recipe file is empty; it needs at least 'method' and 'data'")
    data, lines = read_yaml(path)  # file:line errors for unreadable files and bad YAML
    if not isinstance(data, dict):
        raise SuiteError(path, 1, None, "a recipe is a mapping with at least 'method' and 'data'")
    data = extended(data, path, lines, SOURCES)  # `extends: other.yaml`: this file's keys over that recipe's
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, path, lines) from None
    recipe._path = path
    return recipe


_MODELS = {"lora": LoraSection, "train": TrainSection, "dpo": DPOSection, "reward": RewardSection}


def _located(exc: ValidationError, path: Path, lines: dict[tuple, int]) -> SuiteError:
    found = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        line = _line_of(lines, loc)
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[") or None
        found.append(SuiteError(path, line, field, _message(err, loc)))
    found.sort(key=lambda e: e.line or 0)
    first = found[0]
    if len(found) > 1:
        first = SuiteError(path, first.line, first.field, "\n".join([first.message, *map(str, found[1:])]))
    return first


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _message(err: dict, loc: tuple) -> str:
    if err["type"] == "missing":
        return "required field is missing; add it"
    if err["type"] == "extra_forbidden":
        owner = _MODELS.get(str(loc[0])) if len(loc) > 1 else Recipe
        return f"unknown field '{loc[-1]}' — {did_you_mean(str(loc[-1]), (owner or Recipe).model_fields)}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error":
        return f"{msg} (got {err.get('input')!r})"
    return msg
