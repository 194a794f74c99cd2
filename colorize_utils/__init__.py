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

# Two more lines per process ("WARNING: All log messages before absl::InitializeLog() ..." and "... port.cc:153]
# oneDNN custom operations are on ..."), twice, come from TensorFlow's C++ start-up before absl's logging is set
# up, so no log level reaches them, and only TF_ENABLE_ONEDNN_OPTS=0 (different kernels, different numbers) stops
# them at the source. Instead the first `import tensorflow` (also Keras's) runs with the process's stderr file
# descriptor captured; afterwards every captured line except those two kinds is written back to stderr.
_STARTUP_CHATTER = re.compile(rb"All log messages before absl::InitializeLog\(\) is called"
                              rb"|port\.cc:\d+\] oneDNN custom operations are on")


@contextlib.contextmanager
def native_stderr_without_startup_chatter():
    """Capture file descriptor 2 (C++ writes too); on exit write back every line but TensorFlow's start-up lines."""
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
            kept = [line for line in captured.read().splitlines(keepends=True) if not _STARTUP_CHATTER.search(line)]
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
