"""Training: LoRA adapters for the base model with TRL (SFT and DPO), from YAML recipes.

- :mod:`harness.training.recipes` — recipe YAML → validated :class:`Recipe` → TRL/PEFT configs.
- :mod:`harness.training_data` — JSONL data files: format detection, line-numbered validation,
  conversion into the conversational rows TRL expects.
- :mod:`harness.sources.truthfulqa_pairs` — the ``truthfulqa-train`` preference source (even rows only).
- :mod:`harness.training.run` — one training run: checkpoints, resume, atomic adapter output, training.json.
- :mod:`harness.training.trainers` — the TRL SFTTrainer / DPOTrainer (+ PEFT LoRA) for a recipe.
- :mod:`harness.training.synth` — the synthetic preference-pair generator (``harness synth``).
- the ``train``, ``merge`` and ``synth`` subcommands live in :mod:`harness.cli.train`.

Heavy libraries (torch, transformers, trl, peft) are imported inside functions, so importing
this package (and validating recipes and data) stays fast.
"""
