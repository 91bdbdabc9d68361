"""lm-eval task configs shipped with adapter-harness (pass this directory as --include_path)."""
