"""Find, check and load a model (+ optional PEFT adapter) and describe it as a ModelIdentity.

Every failure a user can cause (a wrong path, no network, a pickle-only adapter, an adapter
for another architecture) becomes one HarnessError line instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from harness.backend import ModelIdentity
from harness.errors import HarnessError

from . import embedded
from .adapter_info import adapter_config

EMBEDDED_NAMES = (None, "", "embedded")
EMBEDDED_LABEL = "SmolLM2-135M-Instruct (embedded)"
# Files fetched for a hub model: config, safetensors weights, tokenizer and chat template.
HUB_PATTERNS = ["*.json", "*.safetensors", "*.jinja", "*.txt", "*.model", "*.tiktoken"]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")  # "owner/name", or a legacy "name"


@dataclass
class Loaded:
    model: object  # a transformers PreTrainedModel, or a peft PeftModel wrapping one
    tokenizer: object
    identity: ModelIdentity


def resolve_model_dir(model: str | None, progress: bool = True) -> tuple[Path, str]:
    """(local directory, display name) for ``model``: embedded, a local dir or a hub id."""
    if model in EMBEDDED_NAMES:
        return embedded.ensure_embedded_model(progress=progress), EMBEDDED_LABEL
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise HarnessError(f"model directory {model} has no config.json: not a transformers model directory")
        return path, model
    if model.startswith((".", "/", "~", "\\")) or not _HUB_ID.match(model):
        raise HarnessError(
            f"model {model!r} is neither an existing directory nor a Hugging Face hub id (owner/name); "
            "use 'embedded' for the built-in SmolLM2-135M-Instruct"
        )
    return _download(model), model


def _download(repo_id: str) -> Path:
    """A hub model's files from the local HF cache, downloading them when online."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        return Path(snapshot_download(repo_id, allow_patterns=HUB_PATTERNS))
    except LocalEntryNotFoundError:
        why = "offline mode is on (HF_HUB_OFFLINE)" if constants.HF_HUB_OFFLINE else "the hub cannot be reached"
        raise HarnessError(
            f"model {repo_id!r} is not a local directory, and as a hub id it is not in the local Hugging Face "
            f"cache and {why}; download it while online, pass a local directory, or use the embedded model"
        ) from None
    except (RepositoryNotFoundError, GatedRepoError, HFValidationError) as e:
        raise HarnessError(f"model {repo_id!r}: {_brief(e)}") from None
    except OSError as e:
        raise HarnessError(f"model {repo_id!r} could not be fetched from the hub: {_brief(e)}") from None


def _brief(error: Exception, lines: int = 1, limit: int = 300) -> str:
    """The first non-empty line(s) of an exception message, shortened: enough to act on."""
    parts = [line.strip() for line in str(error).splitlines() if line.strip()][:lines]
    message = " ".join(parts) or type(error).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"


def sha256_files(paths: list[Path]) -> str:
    """sha256 of one file, or of the ``name:sha256`` lines of several (sorted by name)."""
    from harness.integrity import sha256_file

    if len(paths) == 1:
        return sha256_file(paths[0])
    lines = "".join(f"{p.name}:{sha256_file(p)}\n" for p in sorted(paths, key=lambda p: p.name))
    return hashlib.sha256(lines.encode()).hexdigest()


def weights_sha256(model_dir: Path) -> str:
    """Hash of the model's safetensors weights; the embedded model's hash is read from its marker."""
    marker = embedded.read_marker(model_dir)
    if marker and marker.get("weights_sha256"):
        return str(marker["weights_sha256"])
    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        raise HarnessError(
            f"model directory {model_dir} holds no .safetensors weights (pickle .bin weights are refused)"
        )
    return sha256_files(files)


# Files that decide how a prompt becomes tokens: tokenizer model and settings, special
# tokens, chat template. (Weights and model config are hashed separately.)
_TOKENIZER_NAMES = frozenset({"special_tokens_map.json", "added_tokens.json", "vocab.json", "vocab.txt", "merges.txt"})
_TOKENIZER_PREFIXES = ("tokenizer", "chat_template")
_TOKENIZER_SUFFIXES = (".model", ".tiktoken")
_CONFIG_NAMES = ("config.json", "generation_config.json")  # architecture limits, eos ids used when generating


def tokenizer_files(model_dir: Path) -> list[Path]:
    """The tokenizer and chat-template files of a model directory (sorted by relative path)."""
    found = [
        p for p in model_dir.iterdir()
        if p.is_file() and (p.name in _TOKENIZER_NAMES or p.name.startswith(_TOKENIZER_PREFIXES)
                            or p.name.endswith(_TOKENIZER_SUFFIXES))
    ]
    extra = model_dir / "additional_chat_templates"  # named templates a tokenizer may select
    if extra.is_dir():
        found += [p for p in extra.iterdir() if p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(model_dir).as_posix())


def tokenizer_sha256(model_dir: Path) -> str | None:
    """The hash of everything that turns a prompt into tokens (recorded at training, checked at load)."""
    return files_sha256(model_dir, tokenizer_files(model_dir))


def files_sha256(root: Path, paths: list[Path]) -> str | None:
    """sha256 of the ``relative/path:sha256`` lines of ``paths`` (None when there are none)."""
    from harness.integrity import sha256_file

    if not paths:
        return None
    lines = "".join(f"{p.relative_to(root).as_posix()}:{sha256_file(p)}\n" for p in paths)
    return hashlib.sha256(lines.encode()).hexdigest()


def check_adapter_dir(adapter: str) -> Path:
    """The adapter directory, after checking it holds a config and safetensors weights."""
    path = Path(adapter).expanduser()
    if not path.is_dir():
        raise HarnessError(f"adapter directory {adapter} does not exist")
    if not (path / "adapter_config.json").is_file():
        raise HarnessError(f"adapter directory {adapter} has no adapter_config.json: not a PEFT adapter")
    if not (path / "adapter_model.safetensors").is_file():
        if (path / "adapter_model.bin").is_file():
            raise HarnessError(
                f"{path / 'adapter_model.bin'}: pickle adapter weights are refused (they can run code); "
                "re-save the adapter with safetensors (save_pretrained(..., safe_serialization=True))"
            )
        raise HarnessError(f"adapter directory {adapter} has no adapter_model.safetensors")
    return path


def load_model_and_tokenizer(model_dir: Path, name: str, device: str = "cpu"):
    """float32 model (safetensors only, no remote code) and its tokenizer, pad token set."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=torch.float32, trust_remote_code=False, use_safetensors=True
        )
    except (OSError, ValueError, KeyError) as e:
        raise HarnessError(f"model {name!r} could not be loaded from {model_dir}: {_brief(e)}") from None
    model.to(device)
    model.eval()
    if tokenizer.pad_token is None:
        # Padding is masked out everywhere, so any existing token will do; eos is the usual choice.
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        if tokenizer.pad_token is None:
            raise HarnessError(f"model {name!r}: the tokenizer has no pad, eos or unk token to pad batches with")
    return model, tokenizer


def apply_adapter(model, adapter_dir: Path, model_name: str, *, merge: bool = True):
    """Wrap ``model`` with the PEFT adapter in ``adapter_dir``, explaining architecture mismatches.

    ``merge=False`` leaves the low-rank update unmerged (for callers that merge it themselves).
    """
    from peft import PeftModel

    if adapter_config(adapter_dir).get("task_type") == "SEQ_CLS":
        # A reward model's LoRA also carries a scalar head; on a causal LM it would load
        # "successfully" and score nonsense.
        raise HarnessError(
            f"adapter {adapter_dir} is a reward model (task_type SEQ_CLS), not a chat adapter: "
            "use it as a suite's 'reward' check model, not as --adapter"
        )
    try:
        wrapped = PeftModel.from_pretrained(model, str(adapter_dir), is_trainable=False)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
        base = _adapter_base_name(adapter_dir)
        raise HarnessError(
            f"adapter {adapter_dir} does not fit model {model_name!r}"
            + (f" (the adapter was trained on {base!r})" if base else "")
            + f": {_brief(e, lines=2, limit=400)}"
        ) from None
    if wrapped.active_peft_config.is_prompt_learning:
        # Virtual prompt tokens shift positions and masks; generation and scoring here assume
        # adapters that only change weights (LoRA and relatives).
        raise HarnessError(
            f"adapter {adapter_dir}: prompt-learning adapters ({wrapped.active_peft_config.peft_type}) are not "
            "supported; use a LoRA adapter"
        )
    wrapped.eval()
    # Scoring never trains: fold the low-rank update into the weights (peft keeps it reversible), so
    # each adapted projection is one matmul instead of three (unmerged, the demo gate generated for
    # 231 s with the adapter against 193 s without).
    if merge:
        wrapped.merge_adapter()
    return wrapped


def _adapter_base_name(adapter_dir: Path) -> str | None:
    try:
        return json.loads((adapter_dir / "adapter_config.json").read_text()).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError):
        return None


def load(model: str | None, adapter: str | None, device: str = "cpu", progress: bool = True) -> Loaded:
    """Resolve, check and load everything; the identity records what exactly was loaded."""
    import torch
    import transformers

    adapter_dir = check_adapter_dir(adapter) if adapter else None  # fail fast, before the slow load
    model_dir, name = resolve_model_dir(model, progress=progress)
    model_sha = weights_sha256(model_dir)
    net, tokenizer = load_model_and_tokenizer(model_dir, name, device)
    details = {
        "backend": "hf",
        "model_dir": str(model_dir),
        "dtype": "float32",
        "device": device,
        "torch": str(torch.__version__),  # a plain str: torch's TorchVersion would make torch an import of every unpickled result
        "transformers": transformers.__version__,
    }
    config_sha = files_sha256(model_dir, [model_dir / n for n in _CONFIG_NAMES if (model_dir / n).is_file()])
    if config_sha is not None:
        details["config_sha256"] = config_sha
    tok_sha = tokenizer_sha256(model_dir)
    adapter_sha = None
    if adapter_dir is not None:
        import peft

        from harness.integrity import verify_adapter

        # tampered weights, another base, another tokenizer: refused before the adapter is applied
        verify_adapter(adapter_dir, model_sha, tok_sha)
        net = apply_adapter(net, adapter_dir, name)
        adapter_sha = sha256_files([adapter_dir / "adapter_model.safetensors"])
        details["peft"] = peft.__version__
        # lora_alpha, target modules etc. change outputs without changing the weights file
        details["adapter_config_sha256"] = files_sha256(adapter_dir, [adapter_dir / "adapter_config.json"])
    identity = ModelIdentity(
        model=name,
        adapter=str(adapter_dir) if adapter_dir is not None else None,
        model_sha256=model_sha,
        adapter_sha256=adapter_sha,
        details=details,
        tokenizer_sha256=tok_sha,
    )
    return Loaded(net, tokenizer, identity)
