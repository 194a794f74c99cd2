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
