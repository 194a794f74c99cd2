"""Test-wide settings: everything the tests write goes to a temporary folder, and notebooks under nbval run the
seconds-long smoke profile with a run file, as the runner would give them."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ log lines in compared outputs
os.environ.setdefault("MPLBACKEND", "Agg")

from colorize_utils import config  # noqa: E402  (after the settings above, which TensorFlow reads at import)
from colorize_utils.files import git_commit  # noqa: E402
from colorize_utils.paper.notebook import RunFile  # noqa: E402

# Everything the tests and the notebooks under nbval write goes to a temporary folder, removed at exit:
# a test run leaves nothing in the project.
_RESULTS = tempfile.mkdtemp(prefix="colorize-test-results-")
atexit.register(shutil.rmtree, _RESULTS, ignore_errors=True)
config.RESULTS_ROOT = Path(_RESULTS) / "runs"
# nbval runs each notebook as it is, so the parameters papermill would inject are appended to its
# `parameters` cell instead: the smoke profile, and a run file saying where the earlier notebooks' models are (all
# notebooks write into one folder, as they did before the runner staged them).
NBVAL_RUN_FILE = RunFile(profile="smoke", run_dir=str(config.results_dir("smoke")), commit=git_commit(),
                         headless=True).write(Path(_RESULTS) / "nbval-run.json")
NBVAL_PARAMETERS = (f'\nPROFILE = "smoke"\nRESULTS_DIR = {str(config.results_dir("smoke"))!r}\n'
                    f'RUN_FILE = {str(NBVAL_RUN_FILE)!r}\n')

_TEMP_BEFORE: set[str] = set()


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        cell = getattr(item, "cell", None)  # nbval's notebook cells
        if cell is not None and "parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source += NBVAL_PARAMETERS


def pytest_sessionstart(session):
    _TEMP_BEFORE.update(os.listdir(tempfile.gettempdir()))


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when the tests left files in the system's temp folder (tests use pytest's tmp_path;
    pytest's own pytest-of-<user> folder, which keeps the last three runs' tmp_paths, is pytest's business, and
    TensorFlow's autograph writes its generated sources there itself, whatever the tests do)."""
    if hasattr(session.config, "workerinput"):
        return
    left = sorted(name for name in set(os.listdir(tempfile.gettempdir())) - _TEMP_BEFORE - {Path(_RESULTS).name}
                  if not name.startswith(("pytest-of-", "__autograph_generated_file")))
    if left:
        print(f"\nThe tests left {len(left)} entries in {tempfile.gettempdir()}: {', '.join(left[:10])}. "
              "Write to pytest's tmp_path instead.")
        session.exitstatus = 1
