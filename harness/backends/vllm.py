"""The Backend protocol on vLLM in this process (``--backend vllm``; ``pip install 'adapter-harness[vllm]'``).

``vllm.LLM`` holds the base model; a LoRA adapter is applied per request with ``LoRARequest``
(so base and candidate share one loaded model). Generation: ``LLM.chat`` for chat prompts (the
model's chat template) and ``LLM.generate`` for raw text. Log-likelihood: ``prompt_logprobs`` of
context + continuation, summed over the continuation's tokens. vLLM needs a GPU; on a machine
without one this backend says so and the tests that use it skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model_io import GenerationRequest, LoglikelihoodRequest, ModelIdentity


def continuation_sum(prompt_logprobs: Sequence[dict[int, Any] | None], token_ids: Sequence[int], start: int) -> float:
    """Sum of the log-probs vLLM gives each prompt token from position ``start`` on.

    ``prompt_logprobs[i]`` maps token ids to objects with ``.logprob`` (the first entry is None:
    nothing predicts the first token); the prompt's own token at ``i`` is ``token_ids[i]``.
    """
    total = 0.0
    for i in range(start, len(token_ids)):
        entry = prompt_logprobs[i]
        if entry is None or token_ids[i] not in entry:
            raise HarnessError(f"vLLM returned no log-probability for prompt token {i}")
        value = entry[token_ids[i]]
        total += getattr(value, "logprob", value)
    return total


class VLLMBackend:
    def __init__(self, model_dir: str, adapter: str | None = None, *, progress: bool = True, **engine: Any):
        try:
            import torch
            from vllm import LLM
        except ImportError:
            raise HarnessError("--backend vllm needs vLLM: pip install 'adapter-harness[vllm]' (and a GPU)") from None
        if not torch.cuda.is_available():
            raise HarnessError("--backend vllm needs a CUDA GPU, and this machine has none; use --backend hf")
        self.llm = LLM(model=model_dir, enable_lora=adapter is not None, seed=0, **engine)
        self.tokenizer = self.llm.get_tokenizer()
        self.progress = progress
        self.lora = None
        if adapter is not None:
            from vllm.lora.request import LoRARequest

            from harness.integrity import verify_adapter

            self.lora = LoRARequest(Path(adapter).name, 1, str(Path(adapter).resolve()))
        from .hf.loading import sha256_files, tokenizer_sha256, weights_sha256

        local = Path(model_dir)
        model_sha = weights_sha256(local) if local.is_dir() else None
        tok_sha = tokenizer_sha256(local) if local.is_dir() else None
        adapter_sha = None
        if adapter is not None:
            from harness.integrity import verify_adapter

            verify_adapter(adapter, model_sha, tok_sha)  # the same checks as every adapter load
            adapter_sha = sha256_files([Path(adapter) / "adapter_model.safetensors"])
        self.identity = ModelIdentity(model=str(model_dir), adapter=adapter, model_sha256=model_sha,
                                      adapter_sha256=adapter_sha, details={"backend": "vllm", "model_dir": str(model_dir)},
                                      tokenizer_sha256=tok_sha)

    def _params(self, r: GenerationRequest):
        from vllm import SamplingParams

        return SamplingParams(max_tokens=r.max_new_tokens, temperature=0.0 if r.greedy else r.temperature, seed=r.seed)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        out: list[str] = [""] * len(requests)
        chats = [(i, r) for i, r in enumerate(requests) if not isinstance(r.prompt, str)]
        raws = [(i, r) for i, r in enumerate(requests) if isinstance(r.prompt, str)]
        if chats:
            messages = [[{"role": role, "content": c} for role, c in r.prompt] for _, r in chats]
            answers = self.llm.chat(messages, [self._params(r) for _, r in chats], lora_request=self.lora,
                                    use_tqdm=self.progress)
            for (i, _), answer in zip(chats, answers):
                out[i] = answer.outputs[0].text.strip()
        if raws:
            answers = self.llm.generate([r.prompt for _, r in raws], [self._params(r) for _, r in raws],
                                        lora_request=self.lora, use_tqdm=self.progress)
            for (i, _), answer in zip(raws, answers):
                out[i] = answer.outputs[0].text.strip()
        return out

    def render(self, prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        messages = [{"role": role, "content": c} for role, c in prompt]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        from vllm import SamplingParams, TokensPrompt

        if not requests:
            return []
        contexts = [self.tokenizer.encode(self.render(r.context), add_special_tokens=False) for r in requests]
        fulls = [c + self.tokenizer.encode(r.continuation, add_special_tokens=False) for c, r in zip(contexts, requests)]
        params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        answers = self.llm.generate([TokensPrompt(prompt_token_ids=f) for f in fulls], params, lora_request=self.lora,
                                    use_tqdm=self.progress)
        return [continuation_sum(a.prompt_logprobs, f, len(c)) for a, f, c in zip(answers, fulls, contexts)]
