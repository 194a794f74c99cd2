"""colorize_utils.metrics: each metric on hand-made cases and against scikit-image, the baseline verdicts, and
chunked evaluation."""

import numpy as np
import pytest
import skimage.metrics

from colorize_utils import metrics
from colorize_utils.binning import UniformBins
from colorize_utils.color import lab_channels_to_rgb_uint8
from helpers import random_rgb as _rgb


def test_psnr_identical_is_capped_and_matches_skimage():
    images = _rgb()
    assert np.all(metrics.psnr(images, images) == metrics.PSNR_CAP_DB)
    noisy = np.clip(images.astype(int) + 20, 0, 255).astype(np.uint8)
    expected = [skimage.metrics.peak_signal_noise_ratio(t, p, data_range=255) for t, p in zip(images, noisy)]
    np.testing.assert_allclose(metrics.psnr(noisy, images), expected, rtol=1e-9)


def test_ssim_matches_skimage_and_is_one_for_identical_images():
    images = _rgb(1, size=48)
    noisy = np.clip(images.astype(int) + np.random.default_rng(2).integers(-25, 25, images.shape), 0, 255).astype(np.uint8)
    expected = [skimage.metrics.structural_similarity(p, t, gaussian_weights=True, sigma=1.5, data_range=255,
                                                      use_sample_covariance=False, channel_axis=-1)
                for p, t in zip(noisy, images)]
    np.testing.assert_allclose(metrics.ssim(noisy, images), expected, atol=1e-6)
    np.testing.assert_allclose(metrics.ssim(images, images), 1.0, atol=1e-9)


def test_colorfulness_of_gray_is_zero_and_hand_computed_for_flat_color():
    gray = np.repeat(_rgb(3)[..., :1], 3, axis=-1)
    np.testing.assert_allclose(metrics.colorfulness(gray), 0.0, atol=1e-12)
    flat = np.zeros((1, 4, 4, 3), np.uint8)
    flat[...] = (200, 100, 50)  # rg = 100, yb = |150 - 50| = 100, no spread
    assert metrics.colorfulness(flat)[0] == pytest.approx(0.3 * np.sqrt(100 ** 2 + 100 ** 2))


def test_auc_perfect_is_one_and_constant_error_is_exact():
    ab = np.random.default_rng(4).integers(-60, 60, (2, 8, 8, 2)).astype(np.float64)
    np.testing.assert_allclose(metrics.ab_error_auc(ab, ab), 1.0)
    shifted = ab + np.array([30.0, 40.0])  # every pixel off by exactly 50 (integers: no rounding)
    # thresholds 0..150: the pixels count from t = 50 on -> 101 of 151 thresholds
    np.testing.assert_allclose(metrics.ab_error_auc(shifted, ab), 101 / 151)


def test_binned_accuracy_counts_a_and_b_together():
    bins = UniformBins(10)
    truth = np.array([[[[5.0, 5.0], [25.0, -25.0]]]])
    predicted = np.array([[[[15.0, -5.0], [25.0, 30.0]]]])  # A right, B wrong; A right, B wrong
    assert metrics.binned_accuracy(predicted, truth, bins)[0] == pytest.approx(0.5)


def test_gray_baseline_accuracy_is_share_of_values_in_the_zero_bin():
    bins = UniformBins(10)
    truth = np.array([[[[1.0, 2.0], [3.0, 50.0]]]])
    gray = metrics.gray_prediction(truth)
    assert metrics.binned_accuracy(gray, truth, bins)[0] == pytest.approx(0.75)


def test_evaluate_row_has_every_metric():
    lightness = np.full((2, 16, 16, 1), 60.0)
    truth = np.random.default_rng(5).normal(0, 20, (2, 16, 16, 2))
    row, per_image = metrics.evaluate("m", lightness, truth, truth, {10: UniformBins(10)})
    assert row["frobenius_ab"] == 0 and row["auc"] == 1 and row["accuracy_10_bins"] == 1
    assert row["psnr"] == metrics.PSNR_CAP_DB and row["colorfulness_gap"] == pytest.approx(0)
    assert per_image["ssim"].shape == (2,)


def test_closeness_metrics_hand_computed():
    truth = np.zeros((1, 2, 2, 2))
    predicted = np.full((1, 2, 2, 2), 10.0)
    assert metrics.frobenius_ab(predicted, truth)[0] == pytest.approx(np.sqrt(8 * 0.01))
    assert metrics.rms_ab(predicted, truth)[0] == pytest.approx(10.0)
    lightness = np.full((1, 2, 2, 1), 50.0)
    assert metrics.frobenius_rgb(lightness, truth, truth)[0] == 0.0
    rows = metrics.add_baseline_verdicts([{"model": "gray", "m": 2.0}, {"model": "mean_color", "m": 1.0},
                                          {"model": "a", "m": 0.5}, {"model": "b", "m": 1.5}], "m")
    assert [row["vs_baselines"] for row in rows[2:]] == ["beats both", "beats gray only"]


def test_verdicts_come_from_paired_bootstrap_intervals():
    from colorize_utils import metrics as m

    rng = np.random.default_rng(0)
    gray = rng.normal(13.0, 7.0, 1000)  # per-image closeness, lower is better
    mean_color = gray - 0.7 + rng.normal(0, 0.5, 1000)
    clear_win = mean_color - 0.5 + rng.normal(0, 0.3, 1000)  # beats both, consistently
    jitter = rng.normal(0, 3.0, 1000)
    noise = mean_color + (jitter - jitter.mean()) - 0.01  # 0.01 below mean color on average: noise
    rows = [{"model": name, "frobenius_ab": float(values.mean())} for name, values in
            (("gray", gray), ("mean_color", mean_color), ("clear", clear_win), ("noise", noise))]
    per_image = {"gray": gray, "mean_color": mean_color, "clear": clear_win, "noise": noise}
    m.add_baseline_verdicts(rows, "frobenius_ab", per_image=per_image)
    assert rows[2]["vs_baselines"] == "significantly beats both"
    assert rows[3]["frobenius_ab"] < rows[1]["frobenius_ab"]  # the old mean-only rule would say "beats both"
    assert rows[3]["vs_baselines"] == "significantly beats gray only"
    assert rows[3]["vs_mean_color"].endswith("tie")
    mean, low, high = m.paired_bootstrap(clear_win, mean_color)
    assert low < mean < high < 0


def test_colorfulness_is_the_absolute_value_variant_not_hasler_and_suesstrunks_signed_one():
    from colorize_utils import metrics as m

    image = np.zeros((1, 4, 4, 3))
    image[0, :, :2] = (200, 0, 0)  # red half: rg = +200, yb = +100
    image[0, :, 2:] = (0, 200, 0)  # green half: rg = -200, yb = +100
    # absolute rg = 200 everywhere: std 0, mean 200; yb = 100 everywhere: std 0, mean 100
    assert m.colorfulness(image)[0] == pytest.approx(0.3 * np.hypot(200, 100))
    # the signed formula would give std(rg) = 200, mean(rg) = 0: 200 + 0.3 * 100 = 230, a different number
    assert m.colorfulness(image)[0] != pytest.approx(200 + 0.3 * 100)


def test_auc_matches_the_curve_definition_including_errors_on_a_threshold():
    # The definition: for each threshold t, the share of pixels with ab error <= t; then the mean over t.
    rng = np.random.default_rng(3)
    truth = rng.normal(0, 30, (5, 8, 8, 2))
    predicted = truth + rng.normal(0, 60, truth.shape)
    predicted[0, 0, 0] = truth[0, 0, 0] + np.array([3.0, 4.0])  # error exactly 5: counts at t = 5
    error = np.sqrt(np.sum((predicted - truth) ** 2, axis=-1)).reshape(5, -1)
    expected = np.mean([(error <= t).mean(axis=1) for t in metrics.AUC_THRESHOLDS], axis=0)
    np.testing.assert_allclose(metrics.ab_error_auc(predicted, truth), expected, rtol=0, atol=1e-12)
    odd = np.array([0.5, 7.0, 40.0])
    expected_odd = np.mean([(error <= t).mean(axis=1) for t in odd], axis=0)
    np.testing.assert_allclose(metrics.ab_error_auc(predicted, truth, odd[::-1]), expected_odd, atol=1e-12)


def test_the_truths_arrays_computed_in_chunks_are_the_one_pass_arrays(monkeypatch):
    rng = np.random.default_rng(6)
    lightness = rng.uniform(0, 100, (11, 16, 16, 1)).astype(np.float32)
    ab = rng.normal(0, 25, (11, 16, 16, 2)).astype(np.float32)
    rgb = lab_channels_to_rgb_uint8(lightness, ab)
    means, mean_squares = metrics.ssim_moments(rgb)
    monkeypatch.setattr(metrics, "EVALUATE_CHUNK_PIXELS", 3 * 16 * 16)
    assert [(span.start, span.stop) for span in metrics.image_spans(rgb.shape)] == [(0, 3), (3, 6), (6, 9), (9, 12)]
    truth = metrics.Truth(lightness, ab)  # 3 + 3 + 3 + 2 images a pass
    np.testing.assert_array_equal(truth.rgb, rgb)
    np.testing.assert_array_equal(truth.ssim_moments[0], means)
    np.testing.assert_array_equal(truth.ssim_moments[1], mean_squares)
    assert truth.mean_colorfulness == float(np.mean(metrics.colorfulness(rgb)))
    empty = metrics.Truth(lightness[:0], ab[:0])
    assert empty.rgb.shape == (0, 16, 16, 3) and empty.ssim_moments[0].shape == (0, 16, 16, 3)


def test_evaluate_in_chunks_gives_exactly_the_one_pass_values(monkeypatch):
    rng = np.random.default_rng(5)
    lightness = rng.uniform(0, 100, (11, 16, 16, 1)).astype(np.float32)
    truth = rng.normal(0, 25, (11, 16, 16, 2)).astype(np.float32)
    predicted = truth + rng.normal(0, 10, truth.shape).astype(np.float32)
    binnings = {10: UniformBins(10), 50: UniformBins(50)}
    one_row, one_pass = metrics.evaluate("m", lightness, predicted, truth, binnings, chunk=100)
    row, chunked = metrics.evaluate("m", lightness, predicted, truth, binnings, metrics.Truth(lightness, truth),
                                    chunk=4)  # 4 + 4 + 3 images
    assert row == one_row and sorted(chunked) == sorted(one_pass)
    for key, values in one_pass.items():
        assert values.shape == (11,)
        np.testing.assert_array_equal(chunked[key], values, err_msg=key)
    # the default chunk holds a budget of pixels, so large frames go a few at a time
    monkeypatch.setattr(metrics, "EVALUATE_CHUNK_PIXELS", 3 * 16 * 16)
    calls = []
    original = metrics.ssim
    monkeypatch.setattr(metrics, "ssim", lambda *args, **kwargs: calls.append(len(args[0])) or original(*args, **kwargs))
    row, by_budget = metrics.evaluate("m", lightness, predicted, truth, binnings)
    assert calls == [3, 3, 3, 2] and row == one_row
    for key, values in one_pass.items():
        np.testing.assert_array_equal(by_budget[key], values, err_msg=key)
