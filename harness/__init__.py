"""adapter-harness: an eval-first release gate for fine-tuned LLM adapters."""

__version__ = "0.1.0"
