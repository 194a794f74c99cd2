"""Helpers for the colorization notebooks: Lab color, bins, data pipeline, models, training, results."""

import os

# TensorFlow's C++ start-up chatter (and, on machines without a GPU, CUDA probing) would otherwise
# land in every notebook's output; real errors still raise as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"


def __getattr__(name: str):
    """`colorize_utils.colorize(...)` without importing TensorFlow when the package is imported."""
    if name == "colorize":
        from .inference import colorize

        return colorize
    raise AttributeError(f"module 'colorize_utils' has no attribute {name!r}")
