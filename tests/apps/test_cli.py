"""colorize_utils.cli: `python -m colorize_utils colorize` on the inputs people have (every size, mode and
format, broken and bad files, an --out folder that holds the inputs), its options and its output."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize_utils.cli import main as cli_main
from helpers import expected_rgb, lightness, photo


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


def test_help_lists_the_subcommands():
    completed = subprocess.run([sys.executable, "-m", "colorize_utils", "--help"], capture_output=True, text=True,
                               timeout=120)
    assert completed.returncode == 0
    assert "colorize" in completed.stdout and "train-colorizer" in completed.stdout


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


# name -> (what the colorizer must do: "ok" or the words of the reason it gives)
CORPUS = {
    "empty.jpg": "not an image",
    "truncated.jpg": "unreadable or truncated",
    "corrupt_chunk.png": "unreadable or truncated",
    "text.jpg": "not an image",
    "one_pixel.png": "ok",
    "thin.png": "ok",
    "huge.jpg": "above the limit",
    "bomb.png": "above the limit",
    "sixteen_bit.png": "ok",
    "cmyk.jpg": "ok",
    "palette.gif": "ok",
    "animated.gif": "ok",  # a clip: colorized frame by frame into an animated GIF (tests/runtime/test_video.py)
    "alpha.png": "ok",
    "gray.jpg": "ok",
    "rotated.jpg": "ok",
    "with spaces ünïcode.png": "ok",
}


def test_the_command_line_colorizes_the_usable_files_and_reports_each_other_once(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli_main(["colorize", str(corpus), "--out", str(out), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 0
    for name, expected in CORPUS.items():
        output = out / (name if name == "animated.gif" else f"{Path(name).stem}.png")
        if expected == "ok":
            assert output.exists(), name
        else:
            assert not output.exists(), name
            lines = [line for line in printed.splitlines() if f"skipped {corpus / name}:" in line]
            assert len(lines) == 1 and expected in lines[0], (name, lines)
    assert "Traceback" not in printed
    rotated = np.asarray(Image.open(out / "rotated.png"))
    assert rotated.shape[:2] == (64, 48)  # as a viewer shows it: EXIF orientation applied


def test_missing_unreadable_and_empty_inputs_and_an_unwritable_out(corpus, tmp_path, capsys, monkeypatch):
    assert cli_main(["colorize", str(tmp_path / "nowhere.jpg"), str(corpus / "no_images"),
                     "--out", str(tmp_path / "out")]) == 1
    text = capsys.readouterr()
    assert "no such file or folder" in text.err and "folder holds no images" in text.err
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    assert cli_main(["colorize", str(corpus / "gray.jpg"), "--out", str(blocker / "sub")]) == 2
    assert "cannot write to --out" in capsys.readouterr().err
    real_open = Image.open

    def no_permission(path, *args, **kwargs):
        if str(path).endswith("gray.jpg"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(Image, "open", no_permission)  # tests run as root, for whom chmod 000 does not bite
    assert cli_main(["colorize", str(corpus / "gray.jpg"), "--out", str(tmp_path / "out2")]) == 1
    assert "no permission to read it" in capsys.readouterr().out


def test_train_colorizer_no_longer_offers_version_3s_small_image_update_weight_averaging_or_widening(tmp_path, capsys):
    """Removed in session 12 (one model serves every image size; version 4 uses none of them): the options are
    unknown, refused before any work, and the help names none of them."""
    from colorize_utils.cli import build_parser

    for removed in (["--small-images"], ["--average-of", str(tmp_path / "a"), str(tmp_path / "b")]):
        with pytest.raises(SystemExit) as exited:
            cli_main(["train-colorizer", *removed, "--run-dir", str(tmp_path / "run")])
        assert exited.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
        assert not (tmp_path / "run").exists()
    subcommands = next(action for action in build_parser()._actions if action.choices and "train-colorizer" in
                       action.choices)
    help_text = subcommands.choices["train-colorizer"].format_help()
    for gone in ("--small-images", "--average-of", "small-image", "widen", "average the weights"):
        assert gone not in help_text, gone
