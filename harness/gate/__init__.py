"""The release gate: hold-out check, adapter registry with manifests, and ``harness gate``."""
