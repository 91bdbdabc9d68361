"""Batched text generation: greedy by default, per-request seeded sampling otherwise.

Requests are grouped by ``max_new_tokens``, sorted by prompt length and run in left-padded
batches. Sampling is done row by row with one ``torch.Generator`` per request (seeded with
the request's seed), so a sampled output depends on its own prompt, temperature and seed,
not on which other requests happened to share its batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import torch
from tqdm.auto import tqdm
from transformers import GenerationConfig, LogitsProcessor, LogitsProcessorList

from harness.backend import GenerationRequest
from harness.backends import shard
from harness.errors import HarnessError

from . import text


class RowSampler(LogitsProcessor):
    """A logits processor that samples each sampled row with its own generator.

    The chosen token is left as the only finite logit, so ``generate``'s greedy argmax
    picks it; rows of greedy requests pass through untouched.
    """

    def __init__(self, requests: Sequence[GenerationRequest]):
        self.rows = []
        for request in requests:
            if request.greedy:
                self.rows.append(None)
                continue
            if request.temperature <= 0:
                raise HarnessError(f"sampling temperature must be > 0, got {request.temperature}")
            generator = torch.Generator().manual_seed(int(request.seed))
            self.rows.append((float(request.temperature), generator))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        out = scores
        for row, setting in enumerate(self.rows):
            if setting is None:
                continue
            if out is scores:
                out = scores.clone()
            temperature, generator = setting
            probs = torch.softmax(scores[row].float().cpu() / temperature, dim=-1)
            token = int(torch.multinomial(probs, 1, generator=generator))
            out[row] = float("-inf")
            out[row, token] = 0.0
        return out


class Generator:
    """Generates completions for a model + tokenizer; one instance per backend."""

    def __init__(self, model, tokenizer, batch_size: int = 8, progress: bool = True):
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = max(1, batch_size)
        self.progress = progress
        self.device = next(model.parameters()).device
        base = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.config = base.config
        eos = base.generation_config.eos_token_id
        self.eos_ids = eos if eos is not None else tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id

    def encode_prompt(self, request: GenerationRequest) -> list[int]:
        ids = text.encode(self.tokenizer, text.render(self.tokenizer, request.prompt))
        if not ids:  # an empty prompt: condition on BOS/EOS like lm-eval
            ids = [text.prefix_token_id(self.tokenizer)]
        room = text.max_length(self.config, self.tokenizer) - request.max_new_tokens
        return ids[-max(room, 1) :]  # keep the end of an over-long prompt, as lm-eval does

    def __call__(self, requests: Sequence[GenerationRequest]) -> list[str]:
        outputs: list[str | None] = [None] * len(requests)
        encoded = [self.encode_prompt(r) for r in requests]
        groups: dict[int, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            if request.max_new_tokens < 0:
                raise HarnessError(f"max_new_tokens must be >= 0, got {request.max_new_tokens}")
            groups[request.max_new_tokens].append(index)
        bar = tqdm(total=len(requests), desc="generate", unit="req", disable=not self.progress or not shard.is_main(),
                   leave=False)
        number = 0  # batch number across groups: under a distributed launch, each process runs its share
        with torch.inference_mode():
            for max_new, indices in groups.items():
                indices.sort(key=lambda i: len(encoded[i]))
                for start in range(0, len(indices), self.batch_size):
                    batch = indices[start : start + self.batch_size]
                    number += 1
                    if not shard.mine(number - 1):
                        continue
                    texts = self._batch([encoded[i] for i in batch], [requests[i] for i in batch], max_new)
                    for i, completion in zip(batch, texts):
                        outputs[i] = completion
                    bar.update(len(batch) * shard.world()[1])
        bar.close()
        outputs = shard.gather_filled(outputs)
        return [o if o is not None else "" for o in outputs]

    def _batch(self, prompts: list[list[int]], requests: list[GenerationRequest], max_new: int) -> list[str]:
        if max_new == 0:
            return [""] * len(prompts)
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):  # left padding: every row ends where generation starts
            ids[row, width - len(prompt) :] = torch.tensor(prompt)
            mask[row, width - len(prompt) :] = 1
        config = GenerationConfig(
            max_new_tokens=max_new,
            do_sample=False,  # sampling, when asked for, is done per row by RowSampler
            num_beams=1,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            eos_token_id=self.eos_ids,
            pad_token_id=self.pad_id,
        )
        processors = LogitsProcessorList()
        if not all(r.greedy for r in requests):
            processors.append(RowSampler(requests))
        out = self.model.generate(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            generation_config=config,
            logits_processor=processors,
        )
        new_tokens = out[:, width:].cpu()
        texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return [t.strip() for t in texts]
