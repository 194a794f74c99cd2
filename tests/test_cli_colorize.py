"""`python -m colorize_utils colorize` and `colorize()` on the inputs people have: every size, mode and
format, broken files, and an --out folder that holds the inputs."""

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorize_utils import images, inference, widgets
from colorize_utils.cli import main as cli_main
from colorize_utils.pipeline import rgb_uint8_to_model_pair


def lightness(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb_uint8_to_model_pair(rgb)[0])[..., 0]


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A real photo (scikit-image's astronaut) resized to any shape."""
    import skimage.data

    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((width, height), Image.BILINEAR))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    astronaut = photo(120, 90)
    Image.fromarray(astronaut).convert("L").save(folder / "gray.png")
    Image.fromarray(astronaut).save(folder / "color.jpg", quality=90)
    rgba = np.dstack([astronaut, np.tile(np.linspace(0, 255, 90, dtype=np.uint8), (120, 1))])
    Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
    sixteen = (np.asarray(Image.fromarray(astronaut).convert("L"), np.uint16) * 257)
    Image.fromarray(sixteen).save(folder / "sixteen.png")
    assert Image.open(folder / "sixteen.png").mode.startswith("I")
    Image.fromarray(photo(2000, 3000)).save(folder / "large.jpg", quality=85)
    Image.fromarray(photo(9, 17)).save(folder / "small.png")
    return folder


def expected_rgb(path) -> np.ndarray:
    """What the colorizer should see of a file: its pixels as a viewer shows them."""
    return images.read_image_file(path)


def test_every_output_keeps_its_inputs_size_and_lightness(inputs, tmp_path):
    out = tmp_path / "out"
    assert cli_main(["colorize", str(inputs), "--out", str(out), "--no-progress"]) == 0
    names = ["gray.png", "color.jpg", "alpha.png", "sixteen.png", "large.jpg", "small.png"]
    for name in names:
        source = expected_rgb(inputs / name)
        result = np.asarray(Image.open(out / (name.rsplit(".", 1)[0] + ".png")))
        assert result.shape == source.shape, name
        difference = np.abs(lightness(result) - lightness(source))
        # 8-bit rounding of the output moves L by well under 1 unit; gamut fitting keeps it there
        assert difference.max() < 1.5 and difference.mean() < 0.3, (name, difference.max(), difference.mean())


def test_color_inputs_are_reduced_to_their_lightness_first(inputs):
    color = expected_rgb(inputs / "color.jpg")
    gray_version = inference.gray_of(color)  # the same L, no color
    from_color, from_gray = inference.colorize(color), inference.colorize(gray_version)
    # identical up to the gray image's own 8-bit rounding of L
    assert np.abs(from_color.astype(int) - from_gray.astype(int)).max() <= 3


def test_a_corrupt_file_is_reported_and_the_others_are_written(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photo(64, 64)).save(folder / "good.jpg")
    Image.fromarray(photo(40, 60)).save(folder / "also good.png")
    good = (folder / "good.jpg").read_bytes()
    (folder / "broken.jpg").write_bytes(good[: len(good) // 2])  # truncated
    (folder / "notes.jpg").write_text("not an image")
    code = cli_main(["colorize", str(folder), "--out", str(tmp_path / "out"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["also good.png", "good.png"]
    assert "colorized 2 of 4" in printed
    assert "broken.jpg: unreadable or truncated" in printed and "notes.jpg: not an image" in printed


def test_out_equal_to_the_input_folder_never_overwrites_an_input(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photo(48, 64)).save(folder / "picture.png")
    Image.fromarray(photo(48, 64)).save(folder / "picture.jpg")
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert cli_main(["colorize", str(folder), "--out", str(folder), "--no-progress"]) == 0
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert all(after[name] == digest for name, digest in before.items())
    assert len(after) == 4  # both inputs untouched, two new outputs beside them


def test_a_rerun_into_a_folder_inside_the_inputs_does_not_colorize_its_own_outputs(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photo(48, 64)).save(folder / "picture.jpg")
    for _ in range(2):
        assert cli_main(["colorize", str(folder), "--out", str(folder / "colorized"), "--no-progress"]) == 0
    assert sorted(p.name for p in (folder / "colorized").iterdir()) == ["picture.png"]


def test_nothing_to_colorize_exits_non_zero(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.png").write_bytes(b"\x89PNG broken")
    assert cli_main(["colorize", str(tmp_path / "empty"), str(tmp_path / "bad.png"), str(tmp_path / "missing.jpg"),
                     "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "no such file or folder" in text and "folder holds no images" in text


@pytest.mark.parametrize("arguments, message", [(["--decode", "median"], "argmax"),
                                                (["--temperature", "0"], "temperature must be > 0")])
def test_bad_options_fail_at_once_with_the_allowed_values(tmp_path, capsys, arguments, message):
    assert cli_main(["colorize", str(tmp_path), "--out", str(tmp_path / "o"), *arguments]) == 2
    assert message in capsys.readouterr().err


PROBE_OPTION_ERROR = """
import sys
from colorize_utils.cli import colorize_command
code = colorize_command(sys.argv[1:])
print(code, "tensorflow" in sys.modules, "keras" in sys.modules)
"""


@pytest.mark.parametrize("arguments", [["--decode", "vivid"], ["--temporal", "bogus"], ["--working-size", "0"],
                                       ["--temperature", "-1"]])
def test_an_option_error_exits_2_before_tensorflow_loads(tmp_path, arguments):
    completed = subprocess.run([sys.executable, "-c", PROBE_OPTION_ERROR, str(tmp_path), "--out",
                                str(tmp_path / "o"), *arguments], capture_output=True, text=True, timeout=120)
    assert completed.stdout.split() == ["2", "False", "False"], completed.stdout + completed.stderr
    assert completed.stderr.startswith("error: ") and "tensorflow" not in completed.stderr.lower(), completed.stderr


def test_python_api_takes_gray_and_rgb_arrays_and_returns_rgb_uint8():
    rgb = photo(30, 50)
    for image in (rgb, rgb[..., 0], rgb.astype(np.float32) / 255.0):
        result = inference.colorize(image)
        assert result.shape == (30, 50, 3) and result.dtype == np.uint8
    with pytest.raises(ValueError, match="H x W x 3"):
        inference.colorize(np.zeros((4, 4, 5), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        inference.colorize(rgb.astype(np.float32))  # 0..255 floats: say so instead of clipping to white
    mask = np.zeros((30, 50), bool)
    mask[:, 25:] = True
    assert inference.colorize(mask)[:, 30:].mean() > 200  # True is white, not 1/255
    thin = inference.colorize(np.full((1, 4000), 128, np.uint8))
    assert thin.shape == (1, 4000, 3)
    import colorize_utils

    assert colorize_utils.colorize is inference.colorize
    assert inference.default_colorizer() is inference.default_colorizer()  # loaded once


def test_help_lists_the_subcommands():
    completed = subprocess.run([sys.executable, "-m", "colorize_utils", "--help"], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0
    assert "colorize" in completed.stdout and "train-colorizer" in completed.stdout


def test_the_interactive_panel_colorizes_and_explains_a_bad_path(tmp_path):
    panel = widgets.interactive_panel({"small": photo(40, 60)})
    message, views = panel.children[2], panel.children[3].children
    assert message.value.startswith("60x40") and len(views[1].value) > 100  # a PNG of the colorized photo
    panel.children[0].children[1].value = str(tmp_path / "missing.jpg")
    panel.children[1].children[1].value = "mean"  # any change redraws
    assert message.value.startswith("cannot colorize") and "file not found" in message.value


def test_a_colorize_run_prints_only_its_own_lines(tmp_path):
    import os

    Image.fromarray(photo(40, 60)).save(tmp_path / "p.png")
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's shell has it
    completed = subprocess.run([sys.executable, "-m", "colorize_utils", "colorize", str(tmp_path / "p.png"), "--out",
                                str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True, timeout=300,
                               env=environment)
    assert completed.returncode == 0, completed.stderr
    lines = (completed.stdout + completed.stderr).strip().splitlines()
    assert lines == [f"colorized 1 of 1 inputs into {tmp_path / 'out'}"], lines
    # the same run with TensorFlow imported first (so its start-up output is not captured) gives the same bytes:
    # quieting the start-up changes no number
    script = ("import sys, tensorflow; from colorize_utils.cli import main; "
              f"sys.exit(main(['colorize', {str(tmp_path / 'p.png')!r}, '--out', {str(tmp_path / 'loud')!r}, "
              "'--no-progress']))")
    loud = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=environment)
    assert loud.returncode == 0, loud.stderr
    assert (tmp_path / "loud" / "p.png").read_bytes() == (tmp_path / "out" / "p.png").read_bytes()


def test_a_rerun_says_it_replaced_earlier_outputs_or_keeps_them_and_counts_other_files(tmp_path, capsys):
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(photo(48, 64)).save(folder / "picture.jpg")
    (folder / "notes.txt").write_text("not a photo")
    (folder / ".DS_Store").write_bytes(b"")  # hidden files are nobody's business
    out = tmp_path / "out"
    assert cli_main(["colorize", str(folder), "--out", str(out), "--no-progress"]) == 0
    first = capsys.readouterr().out
    assert "earlier output" not in first and "ignored 1 file(s) in the input folders" in first
    (out / "picture.png").write_bytes(b"an earlier output")
    assert cli_main(["colorize", str(folder), "--out", str(out), "--no-progress", "--skip-existing"]) == 0
    kept = capsys.readouterr().out
    assert "kept 1 earlier output(s)" in kept and (out / "picture.png").read_bytes() == b"an earlier output"
    assert cli_main(["colorize", str(folder), "--out", str(out), "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert "colorized 1 of 1 inputs" in again and "replaced 1 earlier output(s)" in again
    assert Image.open(out / "picture.png").size == (64, 48)
