"""Prompt rendering and tokenisation, kept identical to lm-eval 0.4's HF model.

lm-eval (``lm_eval/api/model.py::_encode_pair`` and ``lm_eval/models/huggingface.py``):

* ``tok_encode`` calls ``tokenizer.encode`` with the tokenizer's default special tokens,
  except that a string already starting with the BOS text gets ``add_special_tokens=False``
  (so a rendered chat template does not receive a second BOS);
* trailing whitespace of the context is moved to the front of the continuation;
* the continuation tokens are ``encode(context + continuation)[len(encode(context)):]``,
  i.e. the whole string is tokenised once and split at the context's token count, while the
  model input is ``encode(context) + continuation tokens``;
* an empty context becomes the single prefix token (BOS, else EOS);
* the input is ``(context + continuation)[-(max_length + 1):][:-1]``.
"""

from __future__ import annotations

from harness.backend import Prompt
from harness.errors import HarnessError

DEFAULT_MAX_LENGTH = 2048  # lm-eval's fallback when neither config nor tokenizer names a length
_TOKENIZER_INFINITY = 1000000000000000019884624838656


def render(tokenizer, prompt: Prompt) -> str:
    """The text a prompt stands for: raw strings as is; chat turns through the chat template."""
    if isinstance(prompt, str):
        return prompt
    if getattr(tokenizer, "chat_template", None) is None:
        raise HarnessError(
            "a chat prompt needs a tokenizer with a chat template, and this model's tokenizer has none; "
            "use a raw text prompt or an instruction-tuned model"
        )
    messages = [{"role": role, "content": content} for role, content in prompt]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def prefix_token_id(tokenizer) -> int:
    """lm-eval's conditioning token for an empty context: BOS, else EOS."""
    if tokenizer.bos_token_id is not None:
        return tokenizer.bos_token_id
    return tokenizer.eos_token_id


def encode(tokenizer, text: str) -> list[int]:
    """``tok_encode`` of lm-eval: default special tokens, none if the text already starts with BOS."""
    bos = tokenizer.decode([prefix_token_id(tokenizer)])
    if bos and text.startswith(bos):
        return tokenizer.encode(text, add_special_tokens=False)
    return tokenizer.encode(text)


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context tokens, continuation tokens) exactly as lm-eval splits a loglikelihood request."""
    if context == "":
        cont = tokenizer.encode(continuation, add_special_tokens=False)
        prefix = prefix_token_id(tokenizer)
        if cont and cont[0] == prefix:
            return cont[:1], cont[1:]
        return [prefix], cont
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = encode(tokenizer, context + continuation)
    context_enc = encode(tokenizer, context)
    if not context_enc:  # a whitespace-only context (lm-eval asserts here): condition on the prefix token
        return [prefix_token_id(tokenizer)], whole
    return context_enc, whole[len(context_enc) :]


def max_length(config, tokenizer) -> int:
    """The context length lm-eval would use for this model (config first, then tokenizer)."""
    config = getattr(config, "text_config", None) or config
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, attr, None)
        if value is not None:
            return int(value)
    limit = getattr(tokenizer, "model_max_length", None)
    if limit is not None and limit != _TOKENIZER_INFINITY:
        return int(limit)
    return DEFAULT_MAX_LENGTH
