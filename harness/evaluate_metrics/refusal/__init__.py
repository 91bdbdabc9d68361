"""An `evaluate` metric module of adapter-harness (load it with evaluate.load(path))."""
