"""lcpipe: predict how a neural network's learning curve ends from its first epochs.

`lcpipe.forecast(history=..., runs=..., epochs=...)` is the Python entry point (lcpipe/api.py),
imported only when it is first used: this file runs on the way to every stage's modules, and the
version lives in pyproject.toml alone, so nothing here reruns a stage.
"""


def __getattr__(name: str):
    if name == "forecast":
        from lcpipe.api import forecast

        return forecast
    raise AttributeError(f"module 'lcpipe' has no attribute {name!r}")
