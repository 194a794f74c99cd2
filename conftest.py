"""Test-wide settings: notebooks under nbval run the seconds-long smoke profile."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("COLORIZE_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ log lines in compared outputs
os.environ.setdefault("MPLBACKEND", "Agg")

# Everything the tests and the notebooks under nbval write goes to a temporary folder, removed at exit:
# a test run leaves nothing in the project.
if "COLORIZE_RESULTS_ROOT" not in os.environ:
    _results = tempfile.mkdtemp(prefix="colorize-test-results-")
    os.environ["COLORIZE_RESULTS_ROOT"] = _results
    atexit.register(shutil.rmtree, _results, ignore_errors=True)
