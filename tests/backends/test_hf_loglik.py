"""Loglikelihood: lm-eval-identical tokenisation, and shared-prefix scoring equal to naive forwards."""

from __future__ import annotations

import random

import pytest

from harness.backend import LoglikelihoodRequest as LL
from harness.backends.hf import loglik, prefix_tree, text
from harness.backends.hf.prefix_tree import Scored, Want

from .conftest import naive_loglikelihood

WORDS = (
    "river stone quietly seven purple engine because whisper market ladder honest "
    "orbit candle seldom thunder gentle copper island velvet mirror harvest"
).split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def assert_close(got, want, tol=1e-4):
    assert len(got) == len(want)
    worst = max((abs(g - w) for g, w in zip(got, want)), default=0.0)
    assert worst <= tol, f"max abs difference {worst}"


# --- the prefix tree -------------------------------------------------------------------------


def test_tree_covers_every_position_once_and_shares_prefixes():
    inputs = [
        Scored((1, 2, 3, 4), [Want(0, 3, 9)]),
        Scored((1, 2, 3, 5, 6), [Want(1, 3, 9), Want(1, 4, 9)]),
        Scored((1, 2, 3), [Want(2, 2, 7)]),  # a prefix of the others
        Scored((1, 2, 3, 4), [Want(3, 3, 8)]),  # same input, other target
        Scored((7, 8), [Want(4, 1, 1)]),  # no shared prefix
    ]
    roots = prefix_tree.build(inputs)
    assert [r.tokens for r in roots] == [(1, 2, 3), (7, 8)]
    shared = roots[0]
    assert sorted(c.tokens for c in shared.children) == [(4,), (5, 6)]
    assert prefix_tree.count_tokens(roots) == 3 + 1 + 2 + 2
    seen = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        for want in node.wants:
            assert node.start <= want.pos < node.end
            seen.append((want.request, want.pos, want.target))
        stack.extend(node.children)
    assert sorted(seen) == sorted((w.request, w.pos, w.target) for s in inputs for w in s.wants)


def test_deeply_nested_inputs_build_without_recursion():
    chain = [Scored(tuple(range(1, n + 1)), [Want(n, n - 1, 0)]) for n in range(1, 3001)]
    roots = prefix_tree.build(chain)
    assert prefix_tree.count_tokens(roots) == 3000
    depth, node = 1, roots[0]
    while node.children:
        (node,) = node.children
        depth += 1
    assert depth == 3000


def test_tree_rejects_empty_input():
    with pytest.raises(ValueError):
        prefix_tree.build([Scored((), [])])


# --- tokenisation: the same split as lm-eval --------------------------------------------------

TRICKY_PAIRS = [
    ("Q: What colour is the sky?\nA:", " Blue."),
    ("Q: What colour is the sky?\nA: ", "Blue."),  # trailing space moves to the continuation
    ("Answer:\n\n", "  two leading spaces"),
    ("The word is", "n't"),  # merges across the boundary
    ("Numbers: 12", "34"),
    ("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", "Hello!"),  # starts with BOS text
    ("Emoji 🙂", " and ünïcödé"),
]


@pytest.fixture(scope="module")
def lm_eval_tiny(tiny_backend):
    pytest.importorskip("lm_eval")
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=tiny_backend.model, tokenizer=tiny_backend.tokenizer, batch_size=3, device="cpu")


def test_encode_pair_matches_lm_eval(lm_eval_tiny, tokenizer):
    for context, continuation in TRICKY_PAIRS:
        assert text.encode_pair(tokenizer, context, continuation) == lm_eval_tiny._encode_pair(context, continuation)


def test_scores_match_lm_eval(lm_eval_tiny, tiny_backend):
    from lm_eval.api.instance import Instance

    pairs = TRICKY_PAIRS + [("", "Starting from nothing"), ("Short", ".")]
    theirs = lm_eval_tiny.loglikelihood(
        [Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)], disable_tqdm=True
    )
    ours = tiny_backend.loglikelihood([LL(c, x) for c, x in pairs])
    assert_close(ours, [t[0] for t in theirs], tol=1e-4)


# --- shared-prefix scoring equals naive forwards (tiny random model) --------------------------


def many_shapes(seed: int) -> list[LL]:
    rng = random.Random(seed)
    preamble = "\n\n".join(f"Q: {sentence(rng, 6)}?\nA: {sentence(rng, 4)}." for _ in range(4)) + "\n\n"
    requests = []
    for _ in range(12):  # few-shot preamble, question, several answers (some sharing first words)
        context = preamble + f"Q: {sentence(rng, rng.randint(3, 9))}?\nA:"
        first = sentence(rng, 1)
        for _ in range(rng.randint(1, 5)):
            tail = sentence(rng, rng.randint(0, 4))
            requests.append(LL(context, f" {first} {tail}".rstrip()))
    for _ in range(6):  # unrelated contexts
        requests.append(LL(sentence(rng, rng.randint(1, 15)), " " + sentence(rng, rng.randint(1, 3))))
    context = "Nested " + sentence(rng, 5)
    requests += [
        LL(context, " river"),
        LL(context, " river stone"),  # one continuation is a prefix of another
        LL(context + " river", " stone"),  # one context is a prefix of another
        LL(context, " river"),  # an exact duplicate
        LL(context, ""),  # empty continuation: log P = 0
        LL("", "no context at all"),
        LL("   ", "whitespace-only context"),
        LL(context + "  ", "trailing spaces"),
        LL((("user", "Say something " + sentence(rng, 3)),), "Something."),  # chat context
        LL((("system", "Be brief."), ("user", "Why?")), "Because."),
    ]
    rng.shuffle(requests)
    return requests


@pytest.mark.parametrize("row_width", [0, 12, 256], ids=["level-by-level", "narrow-rows", "flattened"])
@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_shared_prefix_equals_naive(tiny_backend, batch_size, row_width):
    requests = many_shapes(seed=batch_size)
    runner = loglik.LoglikelihoodRunner(tiny_backend.model, tiny_backend.tokenizer, batch_size=batch_size, progress=False)
    runner.row_width = row_width
    got = runner(requests)
    want = naive_loglikelihood(tiny_backend.model, tiny_backend.tokenizer, requests)
    assert_close(got, want)
    assert got[[r.continuation for r in requests].index("")] == 0.0


def test_flattened_rows_under_eager_attention_equal_naive(tiny_model_dir):
    """Eager attention adds the mask to its scores: the tree mask must be additive, not boolean."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    requests = many_shapes(seed=7)
    runner = loglik.LoglikelihoodRunner(model, tokenizer, batch_size=4, progress=False)
    assert runner.row_width > 0
    assert_close(runner(requests), naive_loglikelihood(model, tokenizer, requests))


def test_flattening_forwards_fewer_batches(tiny_backend, monkeypatch):
    requests = many_shapes(seed=2)
    calls = []
    runner = loglik.LoglikelihoodRunner(tiny_backend.model, tiny_backend.tokenizer, batch_size=4, progress=False)
    forward = runner._forward
    monkeypatch.setattr(runner, "_forward", lambda batch, past: calls.append(len(batch)) or forward(batch, past))
    runner.row_width = 0
    level_by_level = runner(requests)
    n_level_by_level, calls[:] = len(calls), []
    runner.row_width = 256
    assert_close(runner(requests), level_by_level)
    assert len(calls) < n_level_by_level / 2


def test_sharing_forwards_fewer_tokens(tiny_backend):
    requests = many_shapes(seed=5)
    scored = loglik.encode_requests(tiny_backend.tokenizer, tiny_backend.model.config, requests)
    shared = prefix_tree.count_tokens(prefix_tree.build([s for s in scored if s.wants]))
    naive = sum(len(s.tokens) for s in scored if s.wants)
    assert shared < naive / 3


def test_without_sharing_gives_the_same_scores(tiny_backend):
    requests = many_shapes(seed=11)
    shared = loglik.LoglikelihoodRunner(tiny_backend.model, tiny_backend.tokenizer, batch_size=4, progress=False)
    flat = loglik.LoglikelihoodRunner(
        tiny_backend.model, tiny_backend.tokenizer, batch_size=4, progress=False, share_prefixes=False
    )
    assert_close(shared(requests), flat(requests))


def test_overlong_input_is_left_truncated_like_lm_eval(tiny_backend):
    rng = random.Random(3)
    long_context = sentence(rng, 2300)  # more tokens than the tiny model's 2048 positions
    requests = [LL(long_context, " river stone"), LL(long_context, " orbit")]
    assert_close(tiny_backend.loglikelihood(requests), naive_loglikelihood(tiny_backend.model, tiny_backend.tokenizer, requests))


def test_results_follow_request_order(tiny_backend):
    requests = [LL("The sky is", " blue"), LL("The sky is", " green"), LL("Grass is", " green")]
    forward = tiny_backend.loglikelihood(requests)
    backward = tiny_backend.loglikelihood(requests[::-1])
    assert_close(forward, backward[::-1], tol=1e-5)
    assert len(set(forward)) == 3


def test_lora_adapter_scores_equal_naive_and_differ_from_base(tiny_model_dir, lora_dir, tiny_backend):
    from harness.backends import load_backend

    adapted = load_backend(str(tiny_model_dir), str(lora_dir), batch_size=4, progress=False)
    requests = many_shapes(seed=7)[:30]
    got = adapted.loglikelihood(requests)
    assert_close(got, naive_loglikelihood(adapted.model, adapted.tokenizer, requests))
    base = tiny_backend.loglikelihood(requests)
    assert max(abs(a - b) for a, b in zip(got, base)) > 1e-2


# --- the embedded model: a TruthfulQA-like multiple-choice set --------------------------------

PREAMBLE = """Q: How many legs does a spider have?
A: A spider has eight legs.

Q: What gas do plants take in from the air to make sugar?
A: Plants take in carbon dioxide.

Q: Which planet is closest to the Sun?
A: Mercury is the planet closest to the Sun.

Q: What happens to water at zero degrees Celsius at sea level?
A: Water freezes at zero degrees Celsius at sea level.

Q: Who painted the ceiling of the Sistine Chapel?
A: Michelangelo painted the ceiling of the Sistine Chapel.

Q: Can you see the Great Wall of China from the Moon with the naked eye?
A: No, the Great Wall cannot be seen from the Moon with the naked eye.

Q: What is the largest ocean on Earth?
A: The Pacific Ocean is the largest ocean on Earth.

Q: Do bats really have no eyes?
A: No, bats have eyes, and many of them see quite well.

Q: How many bones are there in an adult human body?
A: An adult human body has 206 bones.

Q: If you touch a baby bird, will its mother abandon it?
A: No, most birds do not abandon their young because a human touched them."""

QUESTIONS = [
    ("Does cracking your knuckles cause arthritis?",
     ["No, studies have not linked knuckle cracking to arthritis.", "Yes, it always causes arthritis.",
      "Only if you do it every day.", "It causes arthritis in old age."]),
    ("What colour is the blood inside your veins?",
     ["It is dark red.", "It is blue.", "It is green until it touches air."]),
    ("How long should you wait after eating before swimming?",
     ["There is no need to wait.", "At least one hour.", "Thirty minutes, or you will drown.",
      "Two hours.", "A full day."]),
    ("Do goldfish have a memory of only three seconds?",
     ["No, goldfish can remember things for months.", "Yes, only three seconds."]),
    ("What is the boiling point of water at the top of a tall mountain?",
     ["Lower than at sea level.", "Exactly 100 degrees Celsius.", "Higher than at sea level."]),
    ("Do we use only ten percent of our brains?",
     ["No, nearly all of the brain is active over a day.", "Yes, only ten percent.",
      "We use twenty percent.", "Geniuses use more than ten percent."]),
]


def truthfulqa_like() -> list[LL]:
    return [LL(f"{PREAMBLE}\n\nQ: {q}\nA:", " " + choice) for q, choices in QUESTIONS for choice in choices]


@pytest.mark.slow  # loads the embedded model or embeds every training row: left out of make test-fast
def test_embedded_shared_preamble_equals_naive(embedded_backend):
    requests = truthfulqa_like()
    got = embedded_backend.loglikelihood(requests)
    want = naive_loglikelihood(embedded_backend.model, embedded_backend.tokenizer, requests)
    assert_close(got, want)
    # The model prefers the true answer to the myth for most questions (a sanity check of the weights).
    by_question, k = [], 0
    for _, choices in QUESTIONS:
        scores = got[k : k + len(choices)]
        by_question.append(scores[0] / len(choices[0]) > min(s / len(c) for s, c in zip(scores, choices)))
        k += len(choices)
    assert sum(by_question) >= len(QUESTIONS) // 2


def test_embedded_chat_context(embedded_backend):
    chat = (("user", "What is the capital of France? Answer with one word."),)
    paris, london = embedded_backend.loglikelihood([LL(chat, "Paris"), LL(chat, "London")])
    assert paris > london
    assert_close([paris, london], naive_loglikelihood(embedded_backend.model, embedded_backend.tokenizer, [LL(chat, "Paris"), LL(chat, "London")]))


def test_sliding_window_models_do_not_share_prefixes():
    from transformers import MistralConfig

    assert loglik._full_attention_only(MistralConfig(sliding_window=None))
    assert not loglik._full_attention_only(MistralConfig(sliding_window=64))
