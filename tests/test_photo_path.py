"""The path a photo takes through colorize(): an oracle "model" that predicts the true ab at the working
resolution must give the photo back. These fail when a and b are swapped in the final image, or when the
upsampled colour is shifted against L (both went unnoticed by every other test)."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorize_utils import inference
from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.data import natural_photos


class OracleModel:
    """Stands in for a regression colorizer: returns the true ab of `photo` at the size of the L it is given."""

    def __init__(self, photo: np.ndarray):
        self.photo = photo
        self.input = SimpleNamespace(shape=(None, None, None, 1))  # fully convolutional: any working size

    def __call__(self, lightness, training=False):
        height, width = np.asarray(lightness).shape[1:3]
        small = np.asarray(Image.fromarray(self.photo).resize((width, height), Image.Resampling.BOX))
        return uint8_rgb_to_lab_np(small)[None, ..., 1:].astype(np.float32)


def oracle(photo: np.ndarray) -> inference.Colorizer:
    return inference.Colorizer(OracleModel(photo), None, path=None)


def ab_error(result: np.ndarray, truth: np.ndarray) -> float:
    """Mean |ab| difference in Lab units."""
    return float(np.abs(uint8_rgb_to_lab_np(result)[..., 1:] - uint8_rgb_to_lab_np(truth)[..., 1:]).mean())


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return natural_photos(("coffee",))["coffee"]  # 400 x 600, with strong reds, browns and a blue-white cup


def test_the_oracle_gives_the_photo_back_at_full_size(photo):
    result = inference.colorize(photo, model=oracle(photo), working_size=128)
    assert result.shape == photo.shape
    error = ab_error(result, photo)
    gray_error = ab_error(np.repeat(inference.gray_of(photo)[..., None], 3, axis=-1), photo)
    # Only the colour detail finer than a working pixel is lost (measured 1.45 against gray's 29.7).
    assert error < 2.5 and error < 0.2 * gray_error, (error, gray_error)


def test_a_colour_edge_keeps_its_colours_on_the_right_sides():
    # Left half saturated red, right half saturated blue, both of the same lightness-ish: only ab tells them apart.
    image = np.zeros((240, 320, 3), np.uint8)
    image[:, :160] = (200, 40, 40)
    image[:, 160:] = (40, 60, 200)
    result = inference.colorize(image, model=oracle(image), working_size=64)
    lab = uint8_rgb_to_lab_np(result)
    # 3 working pixels (15 full pixels) away from the edge, each side has its own colour, not a blend.
    left, right = lab[:, :145, 1:].reshape(-1, 2), lab[:, 175:, 1:].reshape(-1, 2)
    truth_left, truth_right = uint8_rgb_to_lab_np(image[:1, :1])[0, 0, 1:], uint8_rgb_to_lab_np(image[:1, -1:])[0, 0, 1:]
    assert np.abs(left - truth_left).max() < 3.0, np.abs(left - truth_left).max()
    assert np.abs(right - truth_right).max() < 3.0, np.abs(right - truth_right).max()
