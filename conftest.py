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

_TEMP_BEFORE: set[str] = set()


def pytest_sessionstart(session):
    _TEMP_BEFORE.update(os.listdir(tempfile.gettempdir()))


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when the tests left files in the system's temp folder (tests use pytest's tmp_path;
    pytest's own pytest-of-<user> folder, which keeps the last three runs' tmp_paths, is pytest's business, and
    TensorFlow's autograph writes its generated sources there itself, whatever the tests do)."""
    if hasattr(session.config, "workerinput"):
        return
    ours = {os.path.basename(os.environ.get("COLORIZE_RESULTS_ROOT", ""))}
    left = sorted(name for name in set(os.listdir(tempfile.gettempdir())) - _TEMP_BEFORE - ours
                  if not name.startswith(("pytest-of-", "__autograph_generated_file")))
    if left:
        print(f"\nThe tests left {len(left)} entries in {tempfile.gettempdir()}: {', '.join(left[:10])}. "
              "Write to pytest's tmp_path instead.")
        session.exitstatus = 1
