import numpy as np
import pytest
import skimage.color
import tensorflow as tf

from colorize_utils.color import lab_channels_to_rgb_uint8, lab_to_rgb, rgb_to_lab, uint8_rgb_to_lab

CUBE_CORNERS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=np.float64)


@pytest.mark.parametrize("rgb", [np.random.default_rng(0).random((5000, 3)), CUBE_CORNERS],
                         ids=["random", "cube-corners"])
def test_rgb_to_lab_matches_skimage(rgb):
    ours = np.asarray(rgb_to_lab(rgb))
    assert np.abs(ours - skimage.color.rgb2lab(rgb)).max() <= 1e-3


def test_uint8_path_matches_skimage():
    rgb = np.random.default_rng(1).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    reference = skimage.color.rgb2lab(rgb / 255.0)
    assert np.abs(np.asarray(uint8_rgb_to_lab(rgb)) - reference).max() <= 1e-3


def test_batched_shapes():
    rgb = np.random.default_rng(2).random((4, 8, 8, 3))
    lab = np.asarray(rgb_to_lab(rgb))
    assert lab.shape == (4, 8, 8, 3)
    assert np.abs(lab - skimage.color.rgb2lab(rgb)).max() <= 1e-3


def test_lab_to_rgb_matches_skimage_and_round_trips():
    rgb = np.random.default_rng(3).random((5000, 3))
    lab = skimage.color.rgb2lab(rgb)
    assert np.abs(np.asarray(lab_to_rgb(lab)) - skimage.color.lab2rgb(lab)).max() <= 1e-4
    round_trip = np.asarray(rgb_to_lab(lab_to_rgb(rgb_to_lab(rgb))))
    assert np.abs(round_trip - skimage.color.rgb2lab(rgb)).max() <= 1e-3


def test_out_of_gamut_lab_is_clipped_never_nan():
    lab = np.array([[50, 120, -120], [0, 100, 100], [100, -128, 127], [120, 0, 0], [-10, 50, 50],
                    [50, 1e4, -1e4]], dtype=np.float64)
    rgb = np.asarray(lab_to_rgb(lab))
    assert np.all(np.isfinite(rgb))
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_gradients_are_finite_at_pure_black_and_white():
    rgb = tf.Variable(np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.2, 0.9]], dtype=np.float32))
    with tf.GradientTape() as tape:
        lab = rgb_to_lab(rgb)
        loss = tf.reduce_sum(lab * lab)
    assert np.all(np.isfinite(tape.gradient(loss, rgb).numpy()))
    lab_var = tf.Variable(np.array([[0.0, 0.0, 0.0], [50.0, 200.0, -200.0]], dtype=np.float32))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(lab_to_rgb(lab_var))
    assert np.all(np.isfinite(tape.gradient(loss, lab_var).numpy()))


def test_usable_inside_tf_data_map():
    rgb = np.random.default_rng(4).random((6, 4, 4, 3)).astype(np.float32)
    dataset = tf.data.Dataset.from_tensor_slices(rgb).map(rgb_to_lab).batch(6)
    lab = next(iter(dataset)).numpy()
    assert np.abs(lab - skimage.color.rgb2lab(rgb)).max() <= 1e-3


def test_lab_channels_to_rgb_uint8_reconstructs_image():
    rgb = np.random.default_rng(5).integers(0, 256, (2, 8, 8, 3)).astype(np.uint8)
    lab = np.asarray(uint8_rgb_to_lab(rgb))
    back = lab_channels_to_rgb_uint8(lab[..., :1], lab[..., 1:])
    assert back.dtype == np.uint8
    assert np.abs(back.astype(int) - rgb.astype(int)).max() <= 1


def test_numpy_twins_match_the_keras_ops_conversions():
    from colorize_utils import color

    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    rgb[0, :3] = [[0, 0, 0], [255, 255, 255], [1, 1, 1]]  # black, white and the linear segment of f()
    lab = np.asarray(uint8_rgb_to_lab(rgb))
    np.testing.assert_allclose(color.lightness_from_uint8(rgb), lab[..., 0], atol=2e-4)
    np.testing.assert_allclose(color.uint8_rgb_to_lab_np(rgb), lab, atol=2e-4)
    ab = rng.uniform(-110, 110, (64, 64, 2)).astype(np.float32)
    lightness = lab[..., :1]
    np.testing.assert_allclose(color.lab_to_linear_rgb_np(lightness, ab),
                               np.asarray(color.lab_to_linear_rgb(np.concatenate([lightness, ab], -1))),
                               atol=2e-5, rtol=1e-5)
    # Rounding to 8 bits by thresholds equals rounding lab_to_rgb(x) * 255 (ties aside: at most 1 level).
    linear = rng.uniform(-0.2, 1.2, (20_000, 3)).astype(np.float32)
    linear[:4, 0] = [0.0, 1.0, -0.1, 0.0031308]
    expected = np.round(np.clip(np.where(linear > 0.0031308, 1.055 * np.maximum(linear, 0.0031308) ** (1 / 2.4)
                                         - 0.055, 12.92 * linear), 0, 1) * 255)
    got = color.linear_rgb_to_uint8(linear).astype(int)
    assert np.abs(got - expected).max() <= 1 and np.mean(got == expected) > 0.999
    # The table + one comparison is exact at the rounding thresholds themselves and just below them.
    edges = np.concatenate([color._LINEAR_THRESHOLDS, np.nextafter(color._LINEAR_THRESHOLDS, np.float32(-1))])
    np.testing.assert_array_equal(color.linear_rgb_to_uint8(edges),
                                  np.searchsorted(color._LINEAR_THRESHOLDS, edges, side="right"))


def test_in_gamut_conversion_keeps_lightness_and_matches_lab_to_rgb_inside_the_gamut():
    from colorize_utils import color

    rng = np.random.default_rng(8)
    lightness = rng.uniform(5, 95, (32, 32, 1)).astype(np.float32)
    ab = rng.uniform(-100, 100, (32, 32, 2)).astype(np.float32)
    rgb = color.lab_to_rgb_uint8_in_gamut(lightness, ab)
    fitted = color.fit_ab_to_gamut(lightness, ab)
    inside = np.all(fitted == ab, axis=-1)
    assert 0.05 < inside.mean() < 0.95  # both kinds of pixel are tested
    reference = np.round(np.asarray(lab_to_rgb(np.concatenate([lightness, fitted], -1))) * 255)
    assert np.abs(rgb.astype(int) - reference).max() <= 1
    back = np.asarray(rgb_to_lab(rgb / 255.0))[..., 0]
    assert np.abs(back - lightness[..., 0]).max() < 1.0  # L kept within 8-bit rounding
    assert np.all(np.hypot(*np.moveaxis(fitted, -1, 0)) <= np.hypot(*np.moveaxis(ab, -1, 0)) + 1e-4)
