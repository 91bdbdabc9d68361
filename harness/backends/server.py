"""A model served by an inference server, through its OpenAI-compatible API.

vLLM, SGLang, TGI, llama.cpp's server and ``transformers serve`` all speak it. Generation uses
``/v1/chat/completions`` for chat prompts (the server applies the model's chat template) and
``/v1/completions`` for raw text. Log-likelihoods use ``/v1/completions`` with ``echo`` and
``logprobs``, the way lm-eval's ``local-completions`` does; a server that returns no prompt
log-probabilities raises :class:`PromptLogprobsUnavailable`, and the runner reports those
metrics as not evaluated — never as a score.

The ``openai`` client does the HTTP: timeouts, and retries with exponential backoff on
connection errors, 408, 409, 429 and 5xx. Requests run concurrently, at most
``max_concurrency`` at a time. The API key comes from an environment variable only and is never
logged or stored. Weights cannot be hashed through a server: the run's identity records the
server, its model ids and the fingerprint the user supplies, and says the harness did not verify
the adapter's integrity.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from harness.backend import CapabilityUnavailable
from harness.errors import HarnessError
from harness.model_io import GenerationRequest, LoglikelihoodRequest, ModelIdentity

API_KEY_ENV = "ADAPTER_HARNESS_API_KEY"  # else OPENAI_API_KEY; servers on loopback usually need none
NO_PROMPT_LOGPROBS = "the server returns no prompt log-probabilities"


class PromptLogprobsUnavailable(CapabilityUnavailable):
    """The server answers /v1/completions but not with the prompt's log-probabilities."""


def _client_error(exc: Exception, base_url: str) -> HarnessError:
    import openai

    if isinstance(exc, openai.APITimeoutError):  # a kind of APIConnectionError: tested first
        return HarnessError(f"the server at {base_url} did not answer in time; raise --timeout or lower --max-concurrency")
    if isinstance(exc, openai.APIConnectionError):
        return HarnessError(f"cannot reach the server at {base_url} ({exc.__cause__ or exc}); start it, or fix --base-url")
    if isinstance(exc, openai.AuthenticationError):
        return HarnessError(f"the server at {base_url} refused the API key; set {API_KEY_ENV} (or OPENAI_API_KEY)")
    if isinstance(exc, openai.APIStatusError):
        return HarnessError(f"the server at {base_url} answered {exc.status_code}: {str(exc.message)[:300]}")
    return HarnessError(f"the server at {base_url} sent an answer that is not what the API promises: {exc}")


class ServerBackend:
    """The Backend protocol on an OpenAI-compatible server (see the module docstring)."""

    def __init__(self, base_url: str, model: str, *, adapter_model: str | None = None, fingerprint: str | None = None,
                 max_concurrency: int = 4, timeout: float = 120.0, max_retries: int = 4, progress: bool = True):
        try:
            import openai
        except ImportError:
            raise HarnessError("the openai-compatible backend needs the openai client: "
                               "pip install 'adapter-harness[serving]'") from None
        if max_concurrency < 1:
            raise HarnessError(f"--max-concurrency must be >= 1, got {max_concurrency}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.served = adapter_model or model  # the name requests go to: the adapter's, when it is served
        self.max_concurrency = max_concurrency
        self.progress = progress
        key = os.environ.get(API_KEY_ENV) or os.environ.get("OPENAI_API_KEY") or "none"
        options = {"base_url": self.base_url, "api_key": key, "timeout": timeout, "max_retries": max_retries}
        self._sync = openai.OpenAI(**options)
        self._async_options = options
        served = self._served_models()
        for name in {model, self.served}:
            if name not in served:
                raise HarnessError(f"the server at {self.base_url} serves no model named {name!r}; it serves: "
                                   + (", ".join(sorted(served)) or "none"))
        self.identity = self._identity(adapter_model, fingerprint)
        self.prompt_logprobs: bool | None = None  # learnt from the first log-likelihood request

    # --- identity -----------------------------------------------------------------------------

    def _served_models(self) -> set[str]:
        try:
            return {m.id for m in self._sync.models.list()}
        except Exception as exc:  # noqa: BLE001 - every client failure becomes one clear message
            raise _client_error(exc, self.base_url) from None

    def _identity(self, adapter_model: str | None, fingerprint: str | None) -> ModelIdentity:
        def digest(*parts: str | None) -> str:
            return hashlib.sha256(json.dumps(parts).encode()).hexdigest()

        # Stand-ins for weight hashes: what the server says it serves and what the user vouches for.
        # They key the result cache (with the backend type), so a served run never meets an in-process one.
        model_sha = digest("openai-compatible", self.base_url, self.model, fingerprint)
        details = {"backend": "openai-compatible", "base_url": self.base_url, "served_model": self.model,
                   "integrity": "not verified by the harness (weights are behind a server)"}
        if fingerprint:
            details["fingerprint"] = fingerprint
        adapter_sha = None
        if adapter_model:
            details["served_adapter"] = adapter_model
            adapter_sha = digest("openai-compatible adapter", self.base_url, adapter_model, fingerprint)
        return ModelIdentity(model=f"{self.model} @ {self.base_url}", adapter=adapter_model, model_sha256=model_sha,
                             adapter_sha256=adapter_sha, details=details,
                             tokenizer_sha256=digest("server-side chat template", self.base_url, self.served))

    # --- the Backend protocol ----------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        return self._run([self._generate_one(r) for r in requests], "generate")

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[float]:
        if not requests:
            return []
        if any(not isinstance(r.context, str) for r in requests):
            # /v1/completions takes text; a chat context would need the server's template rendered here
            raise PromptLogprobsUnavailable(NO_PROMPT_LOGPROBS + " for chat prompts (only raw text contexts)")
        return self._run([self._loglik_one(r) for r in requests], "loglikelihood")

    # --- requests ------------------------------------------------------------------------------------

    def _run(self, coroutines: list, desc: str) -> list[Any]:
        if not coroutines:
            return []

        async def main() -> list[Any]:
            import openai
            from tqdm.auto import tqdm

            self._client = openai.AsyncOpenAI(**self._async_options)
            gate = asyncio.Semaphore(self.max_concurrency)
            bar = tqdm(total=len(coroutines), desc=desc, unit="req", disable=not self.progress, leave=False)

            async def bounded(coroutine):
                async with gate:
                    result = await coroutine
                    bar.update()
                    return result

            try:
                return await asyncio.gather(*(bounded(c) for c in coroutines))
            finally:
                bar.close()
                await self._client.close()

        try:
            return asyncio.run(main())
        except HarnessError:
            raise
        except Exception as exc:  # noqa: BLE001 - client errors, malformed answers
            raise _client_error(exc, self.base_url) from None

    def _sampling(self, r: GenerationRequest) -> dict[str, Any]:
        return {"max_tokens": r.max_new_tokens, "temperature": 0.0 if r.greedy else r.temperature, "seed": r.seed}

    async def _generate_one(self, r: GenerationRequest) -> str:
        if isinstance(r.prompt, str):
            answer = await self._client.completions.create(model=self.served, prompt=r.prompt, **self._sampling(r))
            text = answer.choices[0].text
        else:
            messages = [{"role": role, "content": content} for role, content in r.prompt]
            answer = await self._client.chat.completions.create(model=self.served, messages=messages, **self._sampling(r))
            text = answer.choices[0].message.content
        if text is None:
            raise HarnessError(f"the server at {self.base_url} returned no text for a generation request")
        return text.strip()

    async def _loglik_one(self, r: LoglikelihoodRequest) -> float:
        if self.prompt_logprobs is False:
            raise PromptLogprobsUnavailable(NO_PROMPT_LOGPROBS)
        text = r.context + r.continuation
        answer = await self._client.completions.create(model=self.served, prompt=text, max_tokens=1, echo=True,
                                                       logprobs=1, temperature=0.0)
        value = continuation_logprob(answer.choices[0], len(r.context), text)
        if value is None:
            self.prompt_logprobs = False
            raise PromptLogprobsUnavailable(NO_PROMPT_LOGPROBS)
        self.prompt_logprobs = True
        return value

    def __repr__(self) -> str:
        return f"ServerBackend({self.served!r} @ {self.base_url})"


def continuation_logprob(choice: Any, context_chars: int, text: str) -> float | None:
    """Sum of the log-probs of the echoed prompt tokens that start at or after ``context_chars``.

    None when the server did not echo the prompt with its log-probabilities (then there is no
    likelihood to read, only a guess). The one generated token (``max_tokens=1``; some servers
    refuse 0) is dropped: it starts at or after ``len(text)``.
    """
    logprobs = getattr(choice, "logprobs", None)
    offsets = getattr(logprobs, "text_offset", None) if logprobs is not None else None
    values = getattr(logprobs, "token_logprobs", None) if logprobs is not None else None
    if not offsets or not values or not (choice.text or "").startswith(text):
        return None
    start = min(offsets)  # some servers count offsets from the start of the prompt, others not at 0
    total, seen = 0.0, False
    for offset, value in zip(offsets, values):
        position = offset - start
        if context_chars <= position < len(text):
            if value is None:
                return None
            total += value
            seen = True
    return total if seen else None
