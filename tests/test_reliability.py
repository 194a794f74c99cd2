"""Reliability: a bad-input corpus (made here, nothing committed) through every entry point, SIGKILL and
resume, atomic writes, and bad parameters that fail at once with the allowed values."""

import os
import signal
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorize_utils import data, inference, reporting
from colorize_utils.cli import main as cli_main


def _photo(height=48, width=64):
    import skimage.data

    return np.asarray(Image.fromarray(skimage.data.coffee()).resize((width, height), Image.BILINEAR))


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb's calling card)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (len(payload).to_bytes(4, "big") + kind + payload
                + zlib.crc32(kind + payload).to_bytes(4, "big"))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


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
    "animated.gif": "ok",  # a clip: colorized frame by frame into an animated GIF (tests/test_video.py)
    "alpha.png": "ok",
    "gray.jpg": "ok",
    "rotated.jpg": "ok",
    "with spaces ünïcode.png": "ok",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    rgb = _photo()
    (folder / "empty.jpg").write_bytes(b"")
    Image.fromarray(rgb).save(folder / "whole.jpg", quality=90)
    whole = (folder / "whole.jpg").read_bytes()
    (folder / "whole.jpg").unlink()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    Image.fromarray(rgb).save(folder / "corrupt_chunk.png")
    raw = bytearray((folder / "corrupt_chunk.png").read_bytes())
    raw[60:80] = b"\xff" * 20  # inside the image data: its CRC no longer matches
    (folder / "corrupt_chunk.png").write_bytes(bytes(raw))
    (folder / "text.jpg").write_text("this is a text file, not a JPEG")
    Image.fromarray(rgb[:1, :1]).save(folder / "one_pixel.png")
    Image.fromarray(np.asarray(Image.fromarray(rgb).resize((200, 2)))).save(folder / "thin.png")
    Image.new("RGB", (12000, 9000), (90, 140, 60)).save(folder / "huge.jpg", quality=50)
    (folder / "bomb.png").write_bytes(_png_claiming(100_000, 100_000))
    Image.fromarray((np.asarray(Image.fromarray(rgb).convert("L"), np.uint16) * 257)).save(folder / "sixteen_bit.png")
    Image.fromarray(rgb).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE).save(folder / "palette.gif")
    frames = [Image.fromarray(np.roll(rgb, shift, axis=1)) for shift in (0, 8, 16)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=80, loop=0)
    rgba = Image.fromarray(rgb).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (48, 1))))
    rgba.save(folder / "alpha.png")
    Image.fromarray(rgb).convert("L").save(folder / "gray.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    Image.fromarray(rgb).save(folder / "rotated.jpg", exif=exif.tobytes())
    Image.fromarray(rgb).save(folder / "with spaces ünïcode.png")
    (folder / "loop").mkdir()
    os.symlink(folder / "loop", folder / "loop" / "again")  # a symlink loop
    (folder / "no_images").mkdir()
    return folder


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


def test_the_python_api_raises_value_errors_for_bad_arrays():
    for bad in (np.zeros((0, 5, 3), np.uint8), np.zeros((4, 4, 2), np.uint8), np.full((4, 4), np.nan)):
        with pytest.raises(ValueError):
            inference.colorize(bad)
    with pytest.raises(ValueError, match="above the limit"):
        inference.colorize(np.zeros((9000, 8000), np.uint8))


def test_the_folder_data_source_uses_the_usable_files_and_counts_the_rest(corpus):
    # 16 files: unusable are empty, truncated, corrupt chunk, text, bomb and huge (above the pixel limit);
    # gray are sixteen_bit and gray.jpg. 8 usable images are too few to train on: refused, with the counts.
    with pytest.raises(ValueError, match=r"Only 8 usable color images(.|\n)*skipped: 6 unreadable, 2 grayscale"):
        data.load_splits(f"folder:{corpus}", (100, 0, 0), seed=0)
    loaded = data.load_splits(f"folder:{corpus}", (8, 0, 0), seed=0)
    assert loaded.report.sizes["train"] == 8


def _run_until(script: str, marker: str, count: int) -> list[str]:
    """Start a Python script, SIGKILL it once `marker` has been printed `count` times; its lines so far."""
    process = subprocess.Popen([sys.executable, "-u", "-c", script], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    lines, seen = [], 0
    for line in process.stdout:
        lines.append(line)
        seen += marker in line
        if seen >= count:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=120)
    return lines


# Every fit() prints "EPOCH n" after each epoch and then pauses, so a SIGKILL can land inside the next one.
SLOW_FIT = """
import numpy as np, time, keras
rng = np.random.default_rng(0)
class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("EPOCH", epoch + 1, flush=True)
        time.sleep(1.0)
original_fit = keras.Model.fit
def fit(self, *args, callbacks=(), **kwargs):
    return original_fit(self, *args, callbacks=[*callbacks, Slow()], **kwargs)
keras.Model.fit = fit
"""

CNN_SCRIPT = SLOW_FIT + """
from colorize_utils import losses, models, training
lightness = rng.uniform(0, 100, (32, 64, 64, 1)).astype("float32")
ab = np.concatenate([lightness - 50, 50 - lightness], -1).astype("float32") * 0.5
models.set_seed(0)
config = training.TrainConfig(epochs=5, batch_size=8, lr_patience=10, verbose=0)
model = models.build_paper_cnn(64, width=2)
result = training.train(model, (lightness, ab), (lightness[:8], ab[:8]), losses.L2Loss(), {run_dir!r}, config)
print("DONE", len(result.seconds_per_epoch), flush=True)
"""


def test_sigkill_mid_training_then_rerun_resumes_with_the_same_history(tmp_path):
    script = CNN_SCRIPT.format(run_dir=str(tmp_path / "run"))
    _run_until(script, "EPOCH", 2)
    history = reporting_history(tmp_path / "run")
    assert len(history["loss"]) == 2
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "DONE 3" in completed.stdout  # epochs 3-5 only: resumed, not restarted
    resumed = reporting_history(tmp_path / "run")
    assert len(resumed["loss"]) == 5 and resumed["loss"][:2] == history["loss"][:2]
    assert (tmp_path / "run" / "model.keras").exists() and not (tmp_path / "run" / "backup").exists()


GAN_SCRIPT = SLOW_FIT + """
from colorize_utils import gan, models
lightness = rng.uniform(0, 100, (16, 64, 64, 1)).astype("float32")
ab = np.concatenate([lightness - 50, 50 - lightness], -1).astype("float32") * 0.5
models.set_seed(0)
config = gan.GANConfig(epochs=4, batch_size=8, warmup_epochs=1, verbose=0)
generator, history, seconds = gan.train_gan(gan.build_generator(64, 4), gan.build_discriminator(64, 4),
                                            (lightness, ab), None, {run_dir!r}, config)
print("DONE", len(seconds), flush=True)
"""


def test_sigkill_mid_cgan_training_then_rerun_resumes(tmp_path):
    script = GAN_SCRIPT.format(run_dir=str(tmp_path / "gan"))
    _run_until(script, "EPOCH", 2)
    history = reporting_history(tmp_path / "gan")
    assert len(history["g_loss"] if "g_loss" in history else history["loss"]) == 2
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "DONE 2" in completed.stdout  # epochs 3 and 4 only
    resumed = reporting_history(tmp_path / "gan")
    key = "g_loss" if "g_loss" in resumed else "loss"
    assert len(resumed[key]) == 4 and resumed[key][:2] == history[key][:2]
    # both Adam states come back with the weights (Keras skips an optimizer it has not built yet)
    assert "Skipping variable loading for optimizer" not in completed.stdout + completed.stderr


def reporting_history(run_dir: Path) -> dict:
    from colorize_utils.training import read_history

    return read_history(run_dir / "history.csv")


def test_sigkill_of_the_shipped_model_command_resumes(tmp_path, shared_data):
    run_dir = tmp_path / "run"
    arguments = ["--run-dir", str(run_dir), "--train-size", "60", "--val-size", "16", "--test-size", "16",
                 "--steps", "6", "--steps-per-epoch", "2", "--batch-size", "8", "--width", "2", "--no-export"]
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["COLORIZE_DATA_DIR"] = {str(shared_data)!r}
        import time, keras
        class Slow(keras.callbacks.Callback):  # room for the kill to land inside the next epoch
            def on_epoch_end(self, epoch, logs=None):
                time.sleep(2.0)
        original_fit = keras.Model.fit
        def fit(self, *args, callbacks=(), **kwargs):
            return original_fit(self, *args, callbacks=[*callbacks, Slow()], **kwargs)
        keras.Model.fit = fit
        from colorize_utils.cli import main
        sys.exit(main(["train-colorizer", *{arguments!r}]))
    """)
    _run_until(script, "colorizer: epoch", 1)
    assert len(reporting_history(run_dir)["loss"]) == 1 and (run_dir / "backup").exists()
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "epoch 1/3" not in completed.stdout and "epoch 3/3" in completed.stdout
    history = reporting_history(run_dir)
    assert len(history["loss"]) == 3 and (run_dir / "card.json").exists()
    # rerunning a finished run evaluates it again; it never throws the model away to train from scratch
    again = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900)
    assert again.returncode == 0 and "holds a finished run" in again.stdout, again.stderr[-2000:]
    assert reporting_history(run_dir) == history


def test_an_interrupted_table_write_leaves_the_old_table_and_no_partial_file(tmp_path, monkeypatch):
    from colorize_utils import config

    writer = reporting.ResultsWriter("01_x", config.get_profile("smoke"), tmp_path)
    writer.save_table([{"model": "gray", "value": 1.0}], "t")
    before = (tmp_path / "tables" / "t.csv").read_text()

    def crash(self, rows):
        raise KeyboardInterrupt  # e.g. Ctrl-C or a kill in the middle of writing

    import csv

    monkeypatch.setattr(csv.DictWriter, "writerows", crash)
    with pytest.raises(KeyboardInterrupt):
        writer.save_table([{"model": "gray", "value": 2.0}], "t")
    assert (tmp_path / "tables" / "t.csv").read_text() == before
    assert sorted(p.name for p in (tmp_path / "tables").iterdir()) == ["t.csv", "t.md"]


@pytest.mark.parametrize("call, message", [
    (lambda: __import__("colorize_utils.config", fromlist=["x"]).get_profile("huge"), "choose one of"),
    (lambda: data.check_source("imagenet-21k"), "choose one of"),
    (lambda: data.check_source("folder:/no/such/folder"), "does not exist"),
    (lambda: inference.colorize(np.zeros((8, 8), np.uint8), decode="median"), "choose one of"),
    (lambda: inference.colorize(np.zeros((8, 8), np.uint8), temperature=0), "temperature must be > 0"),
    (lambda: __import__("colorize_utils.binning", fromlist=["x"]).UniformBins(1), "at least 2"),
    (lambda: __import__("colorize_utils.models", fromlist=["x"]).build_paper_cnn(60), "multiple of 16"),
])
def test_bad_parameters_fail_at_once_and_name_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_missing_data_directory_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="COLORIZE_DATA_DIR"):
        data.load_splits("tiny-imagenet", (8, 2, 2), root=tmp_path / "nowhere", download=False)


def test_the_runner_on_a_folder_of_bad_inputs_uses_the_good_ones_and_records_the_rest(corpus, tmp_path,
                                                                                        monkeypatch):
    import json

    from colorize_utils import runner

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    assert runner.main(["--profile", "smoke", "--only", "01", "--dataset", f"folder:{corpus}",
                        "--sizes", "6,1,1", "--no-progress"]) == 0
    record = json.loads((tmp_path / "smoke" / "metrics" / "01_data_prep.json").read_text())
    report = record["data"]
    assert report["sizes"] == {"train": 6, "val": 1, "test": 1}
    assert report["skipped_corrupt"] >= 1 and report["source"].startswith("folder:")
    with pytest.raises(SystemExit):  # a folder that does not exist fails before any notebook runs
        runner.main(["--profile", "smoke", "--only", "01", "--dataset", f"folder:{tmp_path / 'none'}"])


def test_nan_in_a_later_epoch_names_the_model_and_epoch_and_keeps_the_last_good_checkpoint(tmp_path):
    import keras

    from colorize_utils import losses, models, training

    rng = np.random.default_rng(0)
    lightness = rng.uniform(0, 100, (16, 64, 64, 1)).astype("float32")
    ab = (lightness - 50).repeat(2, axis=-1).astype("float32") * 0.3

    class PoisonAfterTwoEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.layers[-3].kernel.assign(np.full(self.model.layers[-3].kernel.shape, np.nan))

    original_fit = keras.Model.fit

    def fit(self, *args, callbacks=(), **kwargs):
        return original_fit(self, *args, callbacks=[*callbacks, PoisonAfterTwoEpochs()], **kwargs)

    keras.Model.fit = fit
    try:
        config = training.TrainConfig(epochs=5, batch_size=8, verbose=0, label="l2_model")
        with pytest.raises(training.TrainingDiverged, match=r"l2_model .*NaN/inf at epoch 3"):
            training.train(models.build_paper_cnn(64, width=2), (lightness, ab), None, losses.L2Loss(),
                           tmp_path, config)
    finally:
        keras.Model.fit = original_fit
    kept = models.load_model(tmp_path / "model.keras")
    assert np.isfinite(np.asarray(kept(lightness[:2], training=False))).all()  # the last good model


def test_the_tf_data_pipeline_gets_only_the_usable_files_of_the_corpus(corpus):
    from colorize_utils import pipeline

    loaded = data.load_splits(f"folder:{corpus}", (8, 0, 0), seed=0)
    batches = list(pipeline.make_dataset(loaded.train, 64, batch_size=4))
    assert sum(int(lightness.shape[0]) for lightness, _ in batches) == 8
    assert all(np.isfinite(np.asarray(ab)).all() for _, ab in batches)
