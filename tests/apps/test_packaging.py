"""The package as pip builds it: declared dependencies, the console script and the shipped model files."""

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version of a requirements file (its -r includes followed)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif "==" in line:
            requirement = Requirement(line)
            found[requirement.name.lower()] = str(requirement.specifier).removeprefix("==")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    # Built from a copy: setuptools writes build/ and *.egg-info into the tree it builds.
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT / "colorize_utils", source / "colorize_utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(dist), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (path,) = dist.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def read(archive: zipfile.ZipFile, suffix: str) -> str:
    (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
    return archive.read(name).decode()


def test_wheel_declares_runtime_dependencies_that_hold_the_pinned_versions(wheel):
    metadata = read(wheel, ".dist-info/METADATA")
    declared = [Requirement(line.split(":", 1)[1].strip()) for line in metadata.splitlines()
                if line.startswith("Requires-Dist:")]
    runtime = {r.name.lower(): r for r in declared if r.marker is None}
    for needed in ("tensorflow", "keras", "numpy", "pillow", "scipy", "av", "opencv-contrib-python-headless"):
        assert needed in runtime, f"{needed} is not a runtime dependency of the wheel"
    pinned = pins(ROOT / "requirements.txt")
    for name, requirement in runtime.items():
        assert name in pinned, f"{name} is declared but not pinned in requirements-cpu.txt"
        assert requirement.specifier.contains(pinned[name]), (name, str(requirement.specifier), pinned[name])
    extras = {r.name.lower() for r in declared if r.marker is not None and "gpu" in str(r.marker)}
    assert "tensorflow" in extras, "the gpu extra should bring tensorflow[and-cuda]"


def test_wheel_has_the_console_script_and_the_shipped_model(wheel):
    entry_points = read(wheel, ".dist-info/entry_points.txt")
    assert re.search(r"^colorize\s*=\s*colorize_utils\.cli:colorize_command$", entry_points, re.M), entry_points
    names = set(wheel.namelist())
    card = json.loads((ROOT / "colorize_utils/runtime/pretrained/colorizer.card.json").read_text())
    assert "small_images" not in card["default_decoding"]  # one model serves every image size (session 12)
    for shipped in ("colorizer.keras", "colorizer.bins.json", "colorizer.card.json"):
        assert f"colorize_utils/runtime/pretrained/{shipped}" in names, f"{shipped} is missing from the wheel"
    assert not [name for name in names if "/pretrained/colorizer.small." in name]  # version 3's second weights
    assert wheel.getinfo("colorize_utils/runtime/pretrained/colorizer.keras").file_size == \
        (ROOT / "colorize_utils/runtime/pretrained/colorizer.keras").stat().st_size
