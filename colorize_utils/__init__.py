"""Helpers for the colorization notebooks: Lab color, bins, data pipeline, models, training, results."""

import os

# TensorFlow's C++ start-up chatter would otherwise land in every notebook's output; real errors still
# raise as Python exceptions. On a machine with no NVIDIA driver at all, TensorFlow's CUDA probe logs a
# harmless "failed call to cuInit" error line: only there are C++ error lines silenced too.
_NO_NVIDIA_DRIVER = not os.path.exists("/dev/nvidiactl") and not os.path.exists("/proc/driver/nvidia")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3" if _NO_NVIDIA_DRIVER else "2")

__version__ = "0.1.0"


def __getattr__(name: str):
    """`colorize_utils.colorize(...)` and `colorize_utils.suggest_colors(...)` without importing TensorFlow when
    the package is imported."""
    if name in ("colorize", "suggest_colors"):
        from colorize_utils.quiet import import_tensorflow_quietly

        import_tensorflow_quietly()
        from colorize_utils.runtime import inference

        return getattr(inference, name)
    raise AttributeError(f"module 'colorize_utils' has no attribute {name!r}")
