"""Helpers for the colorization notebooks: Lab color, bins, data pipeline, models, training, results."""

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# TensorFlow's C++ start-up chatter would otherwise land in every notebook's output; real errors still
# raise as Python exceptions. On a machine with no NVIDIA driver at all, TensorFlow's CUDA probe logs a
# harmless "failed call to cuInit" error line: only there are C++ error lines silenced too.
_NO_NVIDIA_DRIVER = not os.path.exists("/dev/nvidiactl") and not os.path.exists("/proc/driver/nvidia")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3" if _NO_NVIDIA_DRIVER else "2")

__version__ = "0.1.0"

# TensorFlow's C++ start-up logs a few lines per process before absl's logging is set up ("WARNING: All log
# messages before absl::InitializeLog() ...", then "I0000 ... port.cc:153] oneDNN custom operations are on ...",
# "... cudart_stub.cc:31] Could not find cuda drivers ..."), and TF_CPP_MIN_LOG_LEVEL does not reach them; only
# TF_ENABLE_ONEDNN_OPTS=0 (different kernels, different numbers) would stop the oneDNN one at the source.
# Instead the first `import tensorflow` (also Keras's) runs with the process's stderr file descriptor captured,
# and what it wrote is written back with TF_CPP_MIN_LOG_LEVEL applied to those lines (I, W, E = levels 0-2).
_PRE_ABSL_HEADER = b"All log messages before absl::InitializeLog() is called"
_PRE_ABSL_LINE = re.compile(rb"^([IWE])\d{4} \d\d:\d\d:[\d.]+\s+\d+ \S+:\d+\] ")


def _shown(line: bytes, min_level: int) -> bool:
    if _PRE_ABSL_HEADER in line:
        return False
    match = _PRE_ABSL_LINE.match(line)
    return match is None or b"IWE".index(match.group(1)) >= min_level


@contextlib.contextmanager
def native_stderr_without_startup_chatter():
    """Capture file descriptor 2 (C++ writes too); on exit write it back without the pre-absl log lines below
    TF_CPP_MIN_LOG_LEVEL (and their header line)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as captured:  # unlinked at once: nothing is left in the temp folder
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            level = int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") or 0)
            kept = [line for line in captured.read().splitlines(keepends=True) if _shown(line, level)]
            if kept:
                os.write(2, b"".join(kept))


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Runs the first `import tensorflow` inside native_stderr_without_startup_chatter(), then steps aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once, and never in the way of the real finders
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module):
            with native_stderr_without_startup_chatter():
                real_exec(module)

        spec.loader.exec_module = exec_module
        return spec


if "tensorflow" not in sys.modules:
    sys.meta_path.insert(0, _QuietTensorFlowImport())


def __getattr__(name: str):
    """`colorize_utils.colorize(...)` without importing TensorFlow when the package is imported."""
    if name == "colorize":
        from .inference import colorize

        return colorize
    raise AttributeError(f"module 'colorize_utils' has no attribute {name!r}")
