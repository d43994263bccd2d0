"""lcpipe: predict how a neural network's learning curve ends from its first epochs.

The version lives in pyproject.toml alone (importlib.metadata.version("lcpipe")): a version bump
reruns no stage."""
