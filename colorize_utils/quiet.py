"""TensorFlow's C++ start-up lines, kept out of notebooks and the command line's output.

TensorFlow's C++ start-up logs a few lines per process before absl's logging is set up, and
TF_CPP_MIN_LOG_LEVEL (which colorize_utils/__init__.py defaults) does not reach them. `import_tensorflow_quietly()`
imports TensorFlow with file descriptor 2 captured, only there, and writes back what it said without them.
"""

import contextlib
import importlib.util
import os
import re
import sys
import tempfile

# The lines look like this ("WARNING: All log
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


def import_tensorflow_quietly() -> None:
    """Import TensorFlow now, if it is installed and not yet imported, with file descriptor 2 captured and
    written back without its pre-absl start-up lines. Called explicitly where a process first needs it: the
    command line, `colorize_utils.colorize`, and the notebooks' helper module (paper/notebook.py). A program that
    imports the package's modules directly gets TensorFlow's usual start-up lines."""
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with native_stderr_without_startup_chatter():
        import tensorflow  # noqa: F401
