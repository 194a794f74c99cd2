"""colorize_utils.runtime.inference: colorize() and the Colorizer on arrays and photos.

The path a photo takes through colorize(): an oracle "model" that predicts the true ab at the working
resolution must give the photo back. These fail when a and b are swapped in the final image, or when the
upsampled colour is shifted against L (both went unnoticed by every other test)."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from colorize_utils.runtime import inference
from colorize_utils.color import uint8_rgb_to_lab_np
from colorize_utils.learning.sources import natural_photos
from helpers import expected_rgb, photo


class OracleModel:
    """Stands in for a regression colorizer: returns the true ab of `photo` at the size of the L it is given."""

    def __init__(self, photo: np.ndarray):
        self.photo = photo
        self.input = SimpleNamespace(shape=(None, None, None, 1))  # fully convolutional: any working size

    def __call__(self, lightness, training=False):
        count, height, width = np.asarray(lightness).shape[:3]
        small = np.asarray(Image.fromarray(self.photo).resize((width, height), Image.Resampling.BOX))
        return np.repeat(uint8_rgb_to_lab_np(small)[None, ..., 1:].astype(np.float32), count, axis=0)


def oracle(photo: np.ndarray) -> inference.Colorizer:
    return inference.Colorizer(OracleModel(photo), None, path=None)


def ab_error(result: np.ndarray, truth: np.ndarray) -> float:
    """Mean |ab| difference in Lab units."""
    return float(np.abs(uint8_rgb_to_lab_np(result)[..., 1:] - uint8_rgb_to_lab_np(truth)[..., 1:]).mean())


# the tests take this fixture as `photo`; the function has its own name, as `photo` here is helpers.photo
@pytest.fixture(scope="module", name="photo")
def coffee_photo() -> np.ndarray:
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


def two_tone_edge(edge_column: int = 157) -> np.ndarray:
    """Dark red left of `edge_column`, light blue right of it: the edge is in L too, off the working grid."""
    image = np.zeros((240, 320, 3), np.uint8)
    image[:, :edge_column] = (150, 30, 30)
    image[:, edge_column:] = (120, 170, 230)
    return image


def test_the_guided_filter_moves_colour_edges_onto_the_edges_of_lightness():
    image = two_tone_edge()
    band = slice(157 - 20, 157 + 20)  # the working cell is 15 full pixels: bilinear blends about that far

    def band_error(guided_filter) -> float:
        result = inference.colorize(image, model=oracle(image), working_size=16, guided_filter=guided_filter)
        assert np.allclose(inference.lightness_of(result), inference.lightness_of(image), atol=1.0)  # L is kept
        return ab_error(result[:, band], image[:, band])

    bilinear, small, large = band_error(False), band_error((1.0, 1e-3)), band_error((2.0, 1e-4))
    # Measured 8.6 (bilinear), 7.8 (1 cell, eps 1e-3) and 5.6 (2 cells, 1e-4): the colour moves toward the edge
    # of the lightness, the more so with a wider, stricter filter (a guided filter only partly undoes the blend).
    assert large < 0.75 * bilinear and small < 0.95 * bilinear, (bilinear, small, large)


def test_guided_strips_give_the_whole_images_result(monkeypatch):
    image = np.concatenate([two_tone_edge(), two_tone_edge(90)[:, ::-1]], axis=0)  # 480 x 320, two edges
    colorizer = oracle(image)
    whole = inference.colorize(image, model=colorizer, working_size=24, guided_filter=(1.0, 1e-3))
    monkeypatch.setattr(inference, "STRIP_PIXELS", 320 * 7)  # strips of 8 radii (the fewest rows allowed)
    strips = inference.colorize(image, model=colorizer, working_size=24, guided_filter=(1.0, 1e-3))
    assert np.abs(whole.astype(int) - strips.astype(int)).max() <= 1


def test_the_oracle_gives_the_photo_back_through_the_command_line_and_a_clip(photo, tmp_path, monkeypatch):
    from colorize_utils.runtime import video
    from colorize_utils.cli import main as cli_main

    small = np.asarray(Image.fromarray(photo).resize((240, 160), Image.Resampling.BILINEAR))
    Image.fromarray(small).save(tmp_path / "photo.png")
    monkeypatch.setattr(inference, "load_colorizer", lambda path: oracle(small))
    assert cli_main(["colorize", str(tmp_path / "photo.png"), "--out", str(tmp_path / "out"), "--model", "oracle",
                     "--working-size", "80", "--no-progress"]) == 0
    gray_error = ab_error(np.repeat(inference.gray_of(small)[..., None], 3, axis=-1), small)
    through_cli = ab_error(np.asarray(Image.open(tmp_path / "out" / "photo.png").convert("RGB")), small)
    assert through_cli < 0.2 * gray_error, (through_cli, gray_error)
    frames = list(video.colorize_frames([small] * 4, oracle(small), working_size=80, temporal="flow"))
    assert len(frames) == 4
    for frame in frames:  # a still clip: every frame is the photo again, the temporal filter included
        assert ab_error(frame, small) < 0.2 * gray_error


class RecordingOracle(OracleModel):
    """The oracle, noting the working size (h, w) of every L it is given."""

    def __init__(self, photo: np.ndarray, seen: list):
        super().__init__(photo)
        self.seen = seen

    def __call__(self, lightness, training=False):
        self.seen.append(tuple(np.asarray(lightness).shape[1:3]))
        return super().__call__(lightness, training)


def test_a_small_image_is_enlarged_only_by_its_scale_and_never_past_the_working_size():
    # Enlarging a 64-px image to 160 only blurs it (1.2 dB worse on the Tiny ImageNet hold-out): by default the
    # model sees it at its own size, with a small-image scale at that many times it (at most the working size);
    # larger images still shrink to the working size, whatever the scale.
    seen = []
    for scale in (None, 1.5, 4.0):
        for shape in ((64, 64), (60, 90), (400, 600)):
            image = np.full((*shape, 3), 120, np.uint8)
            oracle = inference.Colorizer(RecordingOracle(image, seen), None, path=None)
            result = inference.colorize(image, model=oracle, working_size=160, small_image_scale=scale)
            assert result.shape == image.shape
    assert seen == [(64, 64), (64, 88), (160, 240),  # sides rounded to multiples of 8
                    (96, 96), (88, 136), (160, 240),
                    (160, 160), (160, 240), (160, 240)], seen
    with pytest.raises(ValueError, match="small_image_scale"):
        inference.colorize(np.zeros((64, 64, 3), np.uint8), model=oracle, small_image_scale=0.5)


def test_images_of_every_size_get_the_cards_one_set_of_settings_and_a_leftover_small_images_block_is_ignored(
        monkeypatch):
    """One model, one set of settings (session 12): a small image is only enlarged by the card's
    `small_image_scale`. A version-3 card's `small_images` block (other settings and weights for small images)
    no longer applies: an old card loads and colorizes as if it had none."""
    from colorize_utils.binning import JointBins

    rng = np.random.default_rng(0)
    bins = JointBins.from_pixels(rng.normal(0, 30, (5000, 2)).astype(np.float32)).with_prior_correction(0.75)
    card = {"default_decoding": {"decode": "annealed", "temperature": 0.38, "working_size": 160,
                                 "prior_correction_alpha": 0.75, "small_image_scale": 1.25,
                                 "guided_filter": {"radius_cells": 1.0, "eps": 1e-3},
                                 "small_images": {"prior_correction_alpha": 0.25, "temperature": 0.5, "scale": 2.0,
                                                  "guided_filter": None, "mirror_average": True,
                                                  "weights": "colorizer.small.keras",
                                                  "applies_below_short_side": 160}}}
    colorizer = inference.Colorizer(OracleModel(np.zeros((8, 8, 3), np.uint8)), bins, path=None, card=card)
    settings = colorizer.settings()
    assert (settings.temperature, settings.prior_correction_alpha) == (0.38, 0.75)
    assert (settings.small_image_scale, settings.guided_filter, settings.mirror_average) == (1.25, (1.0, 1e-3), False)
    assert colorizer.settings(temperature=0.3).temperature == 0.3  # a given setting wins over the card's
    assert colorizer.with_prior_correction(0.75) is colorizer  # the bins' own correction: the same colorizer
    variant = colorizer.with_prior_correction(0.25)
    assert variant.binning.prior_correction["alpha"] == 0.25 and colorizer.with_prior_correction(0.25) is variant
    # colorize() and clips decode small and large images alike, with these weights and the card's main settings
    used = []
    monkeypatch.setattr(inference, "predict_working_ab", lambda c, small_l, decode, temperature, mirror=False, planes=None, chroma_gain=1.0: used.append(
        (c.model, c.binning.prior_correction["alpha"], temperature, small_l.shape[1:])) or np.zeros(
            (len(small_l), 2, 2, 2), np.float32))
    monkeypatch.setattr(inference, "cached_working_ab", lambda c, small_l, settings, planes: used.append(
        (c.model, c.binning.prior_correction["alpha"], settings.temperature, small_l.shape)) or np.zeros(
            (2, 2, 2), np.float32))
    inference.colorize(np.full((64, 64, 3), 90, np.uint8), colorizer)
    inference.colorize(np.full((320, 400, 3), 90, np.uint8), colorizer)
    from colorize_utils.runtime import video

    list(video.colorize_frames([np.full((48, 64, 3), 90, np.uint8)] * 2, colorizer, temporal="none"))
    # the card's scale enlarges the small image and the clip's small frames (64 -> 80, 48 x 64 -> 64 x 80)
    model = colorizer.model
    assert used == [(model, 0.75, 0.38, (80, 80)), (model, 0.75, 0.38, (160, 200)), (model, 0.75, 0.38, (64, 80))], used


def random_colorizer(seed: int, path=None, card=None) -> inference.Colorizer:
    """A tiny untrained classification colorizer (asymmetric kernels: its colours change when mirrored)."""
    import keras
    from colorize_utils.runtime import networks
    from colorize_utils.binning import JointBins

    keras.utils.set_random_seed(seed)
    bins = JointBins.from_pixels(np.random.default_rng(seed).normal(0, 30, (5000, 2)).astype(np.float32))
    model = networks.build_colorizer(2, "classification", 1, bins.num_classes)
    return inference.Colorizer(model, bins, path, card or {})


def test_the_mirror_average_gives_a_mirrored_photo_the_mirrored_colours(photo):
    colorizer = inference.default_colorizer()  # trained: its colours are far from uniform
    image, mirrored = photo[:96, :144], np.ascontiguousarray(photo[:96, :144][:, ::-1])
    for mirror in (False, True):
        plain = inference.colorize(image, colorizer, working_size=48, mirror_average=mirror)
        flipped = inference.colorize(mirrored, colorizer, working_size=48, mirror_average=mirror)
        difference = np.abs(plain[:, ::-1].astype(int) - flipped).max()
        # averaged with its mirror image the model is mirror-symmetric (to rounding); on its own it is not
        assert (difference <= 1) if mirror else (difference > 10), (mirror, difference)


def test_an_old_card_naming_small_image_weights_colours_small_images_with_the_main_weights(tmp_path, photo):
    """A version-3 install's card names `colorizer.small.keras` for images below 160 px; that file is gone
    (session 12). Loading the model and colorizing a small image must neither look for it nor fail: the main
    weights and the card's main settings serve it, exactly as for a card without the block."""
    import json

    main = random_colorizer(4)
    main.model.save(tmp_path / "colorizer.keras")
    main.binning.save(tmp_path / "colorizer.bins.json")
    main_settings = {"decode": "annealed", "temperature": 0.38, "working_size": 64, "small_image_scale": 1.5}
    leftover = {"prior_correction_alpha": 0.25, "temperature": 0.7, "scale": 1.0, "guided_filter": None,
                "weights": "colorizer.small.keras", "applies_below_short_side": 160, "met_targets": False}
    (tmp_path / "colorizer.card.json").write_text(json.dumps(
        {"default_decoding": {**main_settings, "small_images": leftover}}))
    assert not (tmp_path / "colorizer.small.keras").exists()
    loaded = inference.load_colorizer(tmp_path / "colorizer.keras")
    without_block = inference.Colorizer(loaded.model, loaded.binning, None, {"default_decoding": main_settings})
    small = photo[:48, :72]
    np.testing.assert_array_equal(inference.colorize(small, loaded), inference.colorize(small, without_block))
    other = random_colorizer(5)  # other weights give other colours: the comparison above can tell them apart
    assert not np.array_equal(inference.colorize(small, loaded), inference.colorize(small, other, **main_settings))


def test_color_inputs_are_reduced_to_their_lightness_first(inputs):
    color = expected_rgb(inputs / "color.jpg")
    gray_version = inference.gray_of(color)  # the same L, no color
    from_color, from_gray = inference.colorize(color), inference.colorize(gray_version)
    # the same up to the gray image's own 8-bit rounding of L, which moves version 4's colors by a few levels
    # (keeping the input's own colors would differ by tens of levels on average)
    difference = np.abs(from_color.astype(int) - from_gray.astype(int))
    assert difference.mean() < 1.0 and difference.max() <= 12, (difference.mean(), difference.max())


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


def test_the_python_api_raises_value_errors_for_bad_arrays():
    for bad in (np.zeros((0, 5, 3), np.uint8), np.zeros((4, 4, 2), np.uint8), np.full((4, 4), np.nan)):
        with pytest.raises(ValueError):
            inference.colorize(bad)
    with pytest.raises(ValueError, match="above the limit"):
        inference.colorize(np.zeros((9000, 8000), np.uint8))


@pytest.mark.parametrize("value", ["no", 0, None.__class__])
def test_the_mirror_switch_takes_only_true_or_false(photo, value):
    with pytest.raises(ValueError, match="mirror_average is on or off"):
        inference.colorize(photo[:32, :32], mirror_average=value)
