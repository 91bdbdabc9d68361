"""The YAML text of exported lm-eval task and group configs.

Written by hand rather than with ``yaml.dump`` because lm-eval's ``!function`` tags must
appear verbatim; every free-text value goes through :func:`quote` (a JSON string is a
valid YAML double-quoted scalar).
"""

from __future__ import annotations

import json

from harness.schema import Generation


def quote(value: str) -> str:
    """A YAML scalar for any text.

    >>> quote('say "hi"')
    '"say \\\\"hi\\\\""'
    """
    return json.dumps(value, ensure_ascii=False)


def header(suite_path: str, version: str, rendered_for: str) -> str:
    return (
        f"# Written by `harness export-lm-eval` (adapter-harness {version}) from {suite_path}.\n"
        f"# Chat prompts are rendered with the chat template of: {rendered_for}\n"
        "# Run it on that model (plus any adapter); do not add --apply_chat_template.\n"
    )


def task_config(
    name: str, kind: str, generation: Generation | None, data_file: str, metrics: list[str], suite_path: str,
    lower_is_better: frozenset[str] = frozenset(),
) -> str:
    """One lm-eval task; a metric's direction follows the suite's threshold on it (``max:`` only = lower is better)."""
    lines = [
        f"task: {name}",
        "tag: [harness_suites]",
        "custom_dataset: !function utils.load_docs",
        f"dataset_kwargs: {{data_file: {quote(data_file)}}}",
        "test_split: test",
        "num_fewshot: 0",
        "doc_to_text: !function utils.doc_to_text",
        "doc_to_target: !function utils.doc_to_target",
        "process_results: !function utils.process_results",
    ]
    if kind == "loglikelihood":
        lines += [
            "output_type: multiple_choice",
            "doc_to_choice: !function utils.doc_to_choice",
            '# continuations already start with the delimiter their check uses (" " after raw text)',
            'target_delimiter: ""',
        ]
    else:
        assert generation is not None
        lines += ["output_type: generate_until", "generation_kwargs:", _generation(generation)]
    lines.append("metric_list:")
    lines += [f"  - {{metric: {quote(m)}, aggregation: mean, higher_is_better: {str(m not in lower_is_better).lower()}}}"
              for m in metrics]
    lines += ["metadata:", "  version: 1", f"  harness_suite: {quote(suite_path)}"]
    return "\n".join(lines) + "\n"


def _generation(gen: Generation) -> str:
    # 'until: []': stop only at the tokenizer's end of turn, which lm-eval always adds — as the
    # harness stops only at the model's EOS.
    if gen.greedy:
        return f"  {{until: [], max_gen_toks: {gen.max_new_tokens}, do_sample: false}}"
    return (
        f"  {{until: [], max_gen_toks: {gen.max_new_tokens}, do_sample: true, temperature: {gen.temperature}}}"
        "  # sampled: lm-eval cannot reproduce the harness's per-case seeds"
    )


def group_config(name: str, tasks: list[str]) -> str:
    lines = [
        f"group: {name}",
        "task:",
        *[f"  - {task}" for task in tasks],
        "# pass_rate over every case of the suite: the subtasks' rates weighted by their sizes",
        "aggregate_metric_list:",
        "  - {metric: pass_rate, aggregation: mean, weight_by_size: true}",
        "metadata:",
        "  version: 1",
    ]
    return "\n".join(lines) + "\n"
