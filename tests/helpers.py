"""Helpers shared by several test files (the fixtures they share are in conftest.py)."""

import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from colorize_utils import images
from colorize_utils.paper import turing
from colorize_utils.learning.pipeline import rgb_uint8_to_model_pair


def random_rgb(seed=0, count=3, size=32):
    """`count` seeded random RGB uint8 images of size x size."""
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3)).astype(np.uint8)


def turing_deck(count=10):
    """A seeded Turing-test deck of `count` real images and two fake models' colorizations; and those images."""
    real = random_rgb(6, count=count, size=8)
    fakes = {"a": random_rgb(7, count=count, size=8), "b": random_rgb(8, count=count, size=8)}
    return turing.make_deck(real, fakes, seed=3), real, fakes


def lightness(rgb: np.ndarray) -> np.ndarray:
    """The L channel of uint8 RGB images, as the model sees it."""
    return np.asarray(rgb_uint8_to_model_pair(rgb)[0])[..., 0]


def photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A real photo (scikit-image's astronaut) resized to any shape."""
    import skimage.data

    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((width, height), Image.BILINEAR))


def expected_rgb(path) -> np.ndarray:
    """What the colorizer should see of a file: its pixels as a viewer shows them."""
    return images.read_image_file(path)


def run_until(script: str, marker: str, count: int) -> list[str]:
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


def reporting_history(run_dir: Path) -> dict:
    from colorize_utils.learning.training import read_history

    return read_history(run_dir / "history.csv")


def joint_bins():
    """A joint (a, b) bin table fitted on uniform random ab."""
    from colorize_utils.binning import JointBins

    rng = np.random.default_rng(0)
    return JointBins.from_pixels(rng.uniform(-90, 90, (20_000, 2)), step=10.0)


def oracle_hint_colorizer():
    """A hint colorizer that follows its hints exactly: [L, hints] -> logits with, at hinted 1/4 cells, a sharp
    peak on the bin nearest the hint's ab, else on gray's (tests of hint placement and color)."""
    import keras
    from keras import layers, ops

    from colorize_utils.runtime import encoder_colorizer, inference

    bins = joint_bins()
    centres = ops.convert_to_tensor(bins.bin_values.astype("float32"))
    lightness = keras.Input((None, None, 1))
    planes = keras.Input((None, None, 3))
    pooled = encoder_colorizer.HintPool(4)(planes)

    def logits(tensors):
        pooled_planes, light = tensors
        ab = pooled_planes[..., :2] * encoder_colorizer.HINT_AB_SCALE * pooled_planes[..., 2:3]
        distances = ops.sum(ops.square(ab[..., None, :] - centres), axis=-1)
        return -distances[..., None, :] + 0.0 * ops.mean(light)

    light = layers.AveragePooling2D(4)(lightness)
    output = layers.Lambda(logits)([pooled, light])
    return inference.Colorizer(keras.Model([lightness, planes], output), bins, None,
                               {"default_decoding": {"decode": "argmax", "working_size": 64}})
