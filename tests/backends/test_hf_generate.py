"""Generation: chat rendering, new text only, batching that does not change greedy outputs,
and seeded sampling that does not depend on batch composition."""

from __future__ import annotations

import pytest
import torch

from harness.backend import GenerationRequest as GR
from harness.backends.hf import text
from harness.backends.hf.generate import Generator
from harness.errors import HarnessError

PROMPTS = [
    "The sky is",
    "Once upon a time, in a small village by the sea, there lived",
    "1, 2, 3,",
    "def add(a, b):",
    "A",
    "The most important thing to remember when cooking pasta is",
    (("user", "Hello!"),),
    (("system", "You answer in French."), ("user", "How are you today?")),
    "Translate to German: good morning",
    "Q: What is the tallest mountain on Earth?\nA:",
]


def one_by_one(model, tokenizer, requests):
    return [Generator(model, tokenizer, batch_size=1, progress=False)([r])[0] for r in requests]


def test_chat_prompt_is_rendered_with_generation_prompt(tokenizer):
    rendered = text.render(tokenizer, (("user", "Hi there"),))
    assert rendered.startswith("<|im_start|>")
    assert "<|im_start|>user\nHi there<|im_end|>" in rendered
    assert rendered.endswith("<|im_start|>assistant\n")
    assert text.render(tokenizer, "raw text, as is ") == "raw text, as is "


def test_chat_prompt_equals_its_rendered_text(tiny_backend):
    chat = (("user", "Name a colour."),)
    rendered = text.render(tiny_backend.tokenizer, chat)
    a, b = tiny_backend.generate([GR(chat, max_new_tokens=8), GR(rendered, max_new_tokens=8)])
    assert a == b


def test_output_is_only_the_new_text(tiny_backend):
    model, tok = tiny_backend.model, tiny_backend.tokenizer
    prompt = "Once upon a time"
    ids = torch.tensor([tok.encode(prompt)])
    with torch.inference_mode():
        full = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False, pad_token_id=2)
    expected = tok.decode(full[0, ids.shape[1] :], skip_special_tokens=True).strip()
    (got,) = tiny_backend.generate([GR(prompt, max_new_tokens=12)])
    assert got == expected
    assert not got.startswith(prompt)


def test_batched_greedy_equals_one_at_a_time(tiny_backend):
    requests = [GR(p, max_new_tokens=10) for p in PROMPTS]
    batched = Generator(tiny_backend.model, tiny_backend.tokenizer, batch_size=4, progress=False)(requests)
    assert batched == one_by_one(tiny_backend.model, tiny_backend.tokenizer, requests)
    assert len(set(batched)) > 5  # the outputs really differ per prompt


def test_mixed_settings_keep_request_order(tiny_backend):
    requests = [GR(p, max_new_tokens=n) for p, n in zip(PROMPTS, [3, 9, 1, 6, 3, 9, 1, 6, 3, 9])]
    got = tiny_backend.generate(requests)
    assert got == one_by_one(tiny_backend.model, tiny_backend.tokenizer, requests)


def test_zero_new_tokens_gives_empty_text(tiny_backend):
    assert tiny_backend.generate([GR("The sky is", max_new_tokens=0)]) == [""]


def test_sampling_depends_on_seed_not_on_batch(tiny_backend):
    sampled = GR("Once upon a time", max_new_tokens=12, greedy=False, temperature=1.0, seed=5)
    alone = tiny_backend.generate([sampled])[0]
    others = [GR(p, max_new_tokens=12, greedy=False, temperature=0.7, seed=i) for i, p in enumerate(PROMPTS)]
    greedy = GR("The sky is", max_new_tokens=12)
    mixed = tiny_backend.generate(others[:3] + [sampled, greedy] + others[3:])
    assert mixed[3] == alone
    assert mixed[4] == tiny_backend.generate([greedy])[0]  # greedy rows are untouched by sampling rows
    seeds = {tiny_backend.generate([GR("Once upon a time", 12, False, 1.0, s)])[0] for s in range(4)}
    assert len(seeds) > 1


def test_bad_settings_are_clear_errors(tiny_backend):
    with pytest.raises(HarnessError, match="temperature"):
        tiny_backend.generate([GR("x", greedy=False, temperature=0.0)])
    with pytest.raises(HarnessError, match="max_new_tokens"):
        tiny_backend.generate([GR("x", max_new_tokens=-1)])


def test_chat_prompt_without_template_is_a_clear_error(tiny_backend):
    tok = tiny_backend.tokenizer
    saved = tok.chat_template
    tok.chat_template = None
    try:
        with pytest.raises(HarnessError, match="chat template"):
            text.render(tok, (("user", "hi"),))
    finally:
        tok.chat_template = saved


# --- the embedded model -----------------------------------------------------------------------

VARIED = [
    (("user", "What is the capital of France?"),),
    (("user", "Give me three tips for staying focused while studying."),),
    (("user", "Write a haiku about autumn leaves."),),
    (("user", "What is 12 times 7?"),),
    (("user", "Explain photosynthesis in one sentence."),),
    (("system", "You are a pirate."), ("user", "Where is the treasure?")),
    (("user", "Translate 'thank you very much' into Spanish."),),
    (("user", "List the primary colours."),),
    (("user", "How do I boil an egg?"),),
    (("user", "Is it safe to look directly at the sun?"),),
    (("user", "Summarise the plot of Romeo and Juliet in two sentences."),),
    (("user", "What should I do if my laptop will not turn on?"),),
    (("user", "Can you help me write a polite email declining a meeting invitation?"),),
    (("user", "Why is the sky blue?"),),
    "The three largest cities in Japan are",
    "def fibonacci(n):",
    "Dear hiring manager,",
    "Water boils at",
    "In 1969, the first humans",
    "A good breakfast should include",
]


def test_embedded_answers_sensibly(embedded_backend):
    (answer,) = embedded_backend.generate([GR(VARIED[0], max_new_tokens=20)])
    assert "Paris" in answer
    assert "<|im_end|>" not in answer and "assistant" not in answer[:10]


@pytest.mark.slow  # loads the embedded model or embeds every training row: left out of make test-fast
def test_embedded_batched_greedy_matches_sequential(embedded_backend):
    requests = [GR(p, max_new_tokens=16) for p in VARIED]
    batched = embedded_backend.generate(requests)
    sequential = one_by_one(embedded_backend.model, embedded_backend.tokenizer, requests)
    agree = sum(a == b for a, b in zip(batched, sequential)) / len(requests)
    assert agree >= 0.98, [(a, b) for a, b in zip(batched, sequential) if a != b]


def test_lora_adapter_generation_batches_like_sequential(tiny_model_dir, lora_dir, tiny_backend):
    from harness.backends import load_backend

    adapted = load_backend(str(tiny_model_dir), str(lora_dir), batch_size=4, progress=False)
    requests = [GR(p, max_new_tokens=8) for p in PROMPTS[:6]]
    got = adapted.generate(requests)
    assert got == one_by_one(adapted.model, adapted.tokenizer, requests)
    assert got != tiny_backend.generate(requests)  # the adapter is really applied
