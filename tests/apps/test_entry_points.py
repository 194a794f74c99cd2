"""The public entry points, each run as a user runs it, and what a colorize run imports: nothing of the
colorizer's training (colorizer/), the shared training machinery (learning/) or the paper (paper/)."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers import photo

NOT_RUNTIME = ("colorize_utils.learning", "colorize_utils.colorizer", "colorize_utils.paper")


def run_python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)


def loaded_modules(completed: subprocess.CompletedProcess) -> list[str]:
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    Image.fromarray(photo(120, 160)).save(path)
    return path


def test_colorize_from_python_imports_only_the_runtime(tmp_path):
    completed = run_python(
        "import json, sys, numpy as np, colorize_utils\n"
        "from PIL import Image\n"
        "rgb = colorize_utils.colorize(np.full((60, 80, 3), 120, np.uint8))\n"
        "assert rgb.shape == (60, 80, 3)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('colorize_utils'))))", tmp_path)
    modules = loaded_modules(completed)
    assert "colorize_utils.runtime.inference" in modules
    assert not [m for m in modules if m.startswith(NOT_RUNTIME)], modules


def test_the_command_line_colorizes_importing_only_the_runtime(tmp_path, photo_file):
    out = tmp_path / "out"
    completed = run_python(
        "import json, runpy, sys\n"
        f"sys.argv = ['colorize_utils', 'colorize', {str(photo_file)!r}, '--out', {str(out)!r}, '--no-progress']\n"
        "try:\n    runpy.run_module('colorize_utils', run_name='__main__')\n"
        "except SystemExit as stop:\n    assert stop.code in (0, None), stop.code\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('colorize_utils'))))", tmp_path)
    modules = loaded_modules(completed)
    assert (out / "astronaut.png").is_file()
    assert not [m for m in modules if m.startswith(NOT_RUNTIME)], modules


def test_the_console_script_and_the_runner_answer(tmp_path, photo_file):
    script = shutil.which("colorize")
    if script is None:
        pytest.skip("the colorize console script is not installed (pip install -e . installs it)")
    completed = subprocess.run([script, str(photo_file), "--out", str(tmp_path / "o"), "--no-progress"],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (tmp_path / "o" / "astronaut.png").is_file()
    runner = subprocess.run([sys.executable, "-m", "colorize_utils.runner", "--help"], capture_output=True,
                            text=True, timeout=300)
    assert runner.returncode == 0 and "papermill" in runner.stdout
    train = subprocess.run([sys.executable, "-m", "colorize_utils", "train-colorizer", "--help"],
                           capture_output=True, text=True, timeout=300)
    assert train.returncode == 0 and "--encoder" in train.stdout
