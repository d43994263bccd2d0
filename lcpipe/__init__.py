"""lcpipe: predict how a neural network's learning curve ends from its first epochs."""

__version__ = "0.1.0"
