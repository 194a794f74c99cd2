"""Metrics on hand-made cases, the Turing test's scoring, its command line, and evaluation helpers."""

import io

import numpy as np
import pytest
import skimage.metrics

from colorize_utils import evaluation, metrics, turing, widgets
from colorize_utils.color import lab_channels_to_rgb_uint8
from colorize_utils.binning import UniformBins


def _rgb(seed=0, count=3, size=32):
    return np.random.default_rng(seed).integers(0, 256, (count, size, size, 3)).astype(np.uint8)


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


def _deck(count=10):
    real = _rgb(6, count=count, size=8)
    fakes = {"a": _rgb(7, count=count, size=8), "b": _rgb(8, count=count, size=8)}
    return turing.make_deck(real, fakes, seed=3), real, fakes


def test_deck_is_seeded_shows_each_image_once_and_half_real():
    deck, _, _ = _deck()
    again, _, _ = _deck()
    np.testing.assert_array_equal(deck["images"], again["images"])
    assert sorted(deck["image_ids"]) == [f"test_{i:05d}" for i in range(10)]
    assert list(deck["sources"]).count("real") == 5
    assert set(deck["sources"]) == {"real", "a", "b"}


def test_turing_scoring_and_csv(tmp_path):
    deck, _, _ = _deck()
    answers = tmp_path / "answers.csv"
    test = turing.TuringTest(deck, answers, session="s1")
    while not test.done:
        test.answer(judged_real=True)  # someone who always says "real"
    score = test.summary()
    assert score["adversuc"] == 1.0 and score["real_judged_real_share"] == 1.0
    assert score["colorized_shown"] == 5 and score["real_shown"] == 5
    with pytest.raises(IndexError):
        test.current()
    second = turing.TuringTest(deck, answers, session="s2")
    while not second.done:
        second.answer(judged_real=second.current().is_real)  # a perfect judge
    everyone = turing.summarize(turing.read_answers(answers))
    assert everyone["sessions"] == 2 and everyone["answers"] == 20
    assert everyone["adversuc"] == pytest.approx(0.5)
    assert set(everyone["per_model"]) == {"a", "b"}


def test_turing_command_line(tmp_path, capsys):
    deck, _, _ = _deck(count=4)
    path = turing.save_deck(deck, tmp_path / "deck.npz")
    replies = io.StringIO("r\nx\nc\nr\nc\n")
    assert turing.main([str(path), "--no-viewer"], stdin=replies) == 0
    output = capsys.readouterr().out
    assert "AdverSuc" in output and "please answer" in output
    assert len(turing.read_answers(tmp_path / "answers.csv")) == 4
    assert turing.main([str(path), "--report"]) == 0
    assert "4 answers from 1 session" in capsys.readouterr().out


def test_turing_widget_builds_and_records_clicks(tmp_path):
    deck, _, _ = _deck(count=2)
    test = turing.TuringTest(deck, tmp_path / "answers.csv")
    widget = widgets.turing_widget(test)
    real_button = widget.children[2].children[0]
    real_button.click()
    real_button.click()
    assert test.done and "Done" in widget.children[0].value


def test_fooling_proxy_spots_an_obvious_fake():
    rng = np.random.default_rng(9)
    real = rng.integers(0, 256, (40, 16, 16, 3)).astype(np.uint8)
    fake = np.repeat(real[..., :1], 3, axis=-1)  # gray "colorizations"
    result = turing.fooling_proxy(real[:20], fake[:20], real[20:], fake[20:], epochs=15, seed=0)
    assert result["accuracy"] > 0.8 and result["eval_images"] == 40


def test_categories_and_best_worst():
    assert evaluation.category_of("n09428293") == "landscape"
    assert evaluation.category_of("n02791270") == "indoor scene"
    assert evaluation.category_of("n01443537") == evaluation.OTHER_GROUP
    per_image = {"frobenius_ab": np.array([3.0, 1.0, 2.0, 5.0])}
    best, worst = evaluation.best_and_worst(per_image, count=2)
    assert list(best) == [1, 2] and list(worst) == [3, 0]
    labels = ["n09428293", "n09428293", "n02791270", "n01443537"]
    values = {"m": {"frobenius_ab": np.array([1.0, 2.0, 3.0, 4.0])},
              "g": {"frobenius_ab": np.array([2.0, 2.0, 2.0, 4.0])},
              "c": {"frobenius_ab": np.array([1.0, 1.0, 1.0, 1.0])}}
    rows = evaluation.category_table(labels, values, "m", ("g", "c"))
    assert rows[0] == {"category": "landscape", "images": 2, "m": 1.5, "g": 2.0, "c": 1.0, "gain_over_g": 0.5}
    assert rows[1]["category"] == "indoor scene" and rows[1]["gain_over_g"] == -1.0
    synsets = evaluation.synset_table(labels, values, "m", ("g", "c"))
    assert synsets[0]["synset"] == "n09428293" and synsets[0]["c"] == 1.0 and synsets[0]["gain_over_g"] == 0.5


def test_loss_curve_marks_only_real_learning_rate_drops():
    from colorize_utils import plots

    history = {"loss": [3.0, 2.0, 1.5, 1.4], "val_loss": [3.1, 2.2, 1.9, 1.9],
               "learning_rate": [1e-3, 1e-3, 1.0000000474974513e-4, 9.999999747378752e-05]}
    fig = plots.loss_curve_figure(history)
    drops = [line for line in fig.axes[0].lines if line.get_linestyle() == "--"]
    assert len(drops) == 1


def test_turing_command_line_sizes_resumes_and_explains_a_missing_deck(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert turing.main([str(tmp_path / "nowhere.npz")]) == 2
    assert "notebook 06" in capsys.readouterr().err
    deck, _, _ = _deck(count=6)
    path = turing.save_deck(deck, tmp_path / "deck.npz")
    assert turing.main([str(path), "--count", "4", "--session", "ann"], stdin=io.StringIO("r\nc\nq\n")) == 0
    first = capsys.readouterr().out
    assert "4 images" in first and "no display: open this file" in first and "PIL.Image" not in first
    assert turing.main([str(path), "--count", "4", "--session", "ann"], stdin=io.StringIO("r\nr\n")) == 0
    assert "resuming session 'ann' at image 3" in capsys.readouterr().out
    answers = turing.read_answers(tmp_path / "answers.csv")
    assert len(answers) == 4 and [int(row["trial"]) for row in answers] == [0, 1, 2, 3]


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


def _tinted_split(name: str, rgb_center, count: int, seed: int, size: int = 16):
    """An in-memory split of `count` noisy images around one RGB color."""
    from colorize_utils.data import ImageSplit

    rng = np.random.default_rng(seed)
    images = np.clip(np.asarray(rgb_center) + rng.normal(0, 20, (count, size, size, 3)), 0, 255).astype(np.uint8)
    return ImageSplit(name, [name] * count, images=images)


def test_the_mean_color_baseline_is_the_mean_of_the_training_pixels_not_the_test_pixels(tmp_path, monkeypatch):
    """Reddish training images, a bluish-green test set and yellowish validation images: the mean-color
    baseline must predict the mean ab of the training pixels everywhere on the test set."""
    import skimage.color

    from colorize_utils.data import ColorizationData, DataReport
    from colorize_utils.experiment import Experiment
    from colorize_utils.notebook import start_notebook

    monkeypatch.setattr("colorize_utils.config.RESULTS_ROOT", tmp_path)
    size = 16
    splits = {"train": _tinted_split("train", (200, 60, 70), 12, seed=0, size=size),
              "val": _tinted_split("val", (200, 190, 40), 4, seed=1, size=size),
              "test": _tinted_split("test", (40, 150, 200), 6, seed=2, size=size)}
    report = DataReport("in-memory", "", 0, {name: len(split) for name, split in splits.items()})
    loaded = ColorizationData(splits["train"], splits["val"], splits["test"], report, size)

    def mean_ab_of(split):  # skimage's Lab, independent of the package's color conversion
        return skimage.color.rgb2lab(split.images)[..., 1:].reshape(-1, 2).mean(axis=0)

    train_mean, val_mean, test_mean = (mean_ab_of(splits[name]) for name in ("train", "val", "test"))
    # the splits' colors are far apart, so a baseline fitted on the wrong pixels cannot pass by chance
    assert train_mean[0] > 30 and test_mean[0] < -10
    assert min(np.abs(train_mean - test_mean).max(), np.abs(train_mean - val_mean).max()) > 30

    experiment = Experiment(start_notebook("02_fake", "smoke"), loaded, epochs=1)
    np.testing.assert_allclose(experiment.train_ab_mean, train_mean, atol=0.5)
    predicted = experiment.predictions(experiment.test_L, experiment.test_ab)[metrics.MEAN_COLOR]
    assert predicted.shape == experiment.test_ab.shape
    np.testing.assert_allclose(predicted.reshape(-1, 2), np.broadcast_to(train_mean, (predicted[..., 0].size, 2)),
                               atol=0.5)
    # and Table 1's mean-color row scores that prediction against the test pixels
    rows = {row["model"]: row for row in experiment.closeness_table()}
    expected = metrics.frobenius_ab(np.broadcast_to(train_mean, experiment.test_ab.shape).astype(np.float32),
                                    experiment.test_ab).mean()
    assert rows[metrics.MEAN_COLOR]["frobenius_ab"] == pytest.approx(expected, rel=1e-2)


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


def test_a_table_shares_one_truth_and_gets_the_values_of_each_metric_computed_alone():
    rng = np.random.default_rng(3)
    lightness = rng.uniform(0, 100, (6, 16, 16, 1)).astype(np.float32)
    truth = rng.normal(0, 25, (6, 16, 16, 2)).astype(np.float32)
    predictions = {"a": truth + rng.normal(0, 8, truth.shape).astype(np.float32), "b": 0.5 * truth}
    binnings = {10: UniformBins(10), 30: UniformBins(30)}
    rows, per_image = evaluation.build_metrics_table(lightness, truth, predictions, binnings, interval_metrics=())
    rgb_true = lab_channels_to_rgb_uint8(lightness, truth)
    for row in rows:
        ab = predictions[row["model"]]
        rgb = lab_channels_to_rgb_uint8(lightness, ab)
        np.testing.assert_allclose(per_image[row["model"]]["ssim"], metrics.ssim(rgb, rgb_true), rtol=1e-6)
        for num_bins, binning in binnings.items():  # each binning's own truth indices, not the first one's
            np.testing.assert_array_equal(per_image[row["model"]][f"accuracy_{num_bins}_bins"],
                                          metrics.binned_accuracy(ab, truth, binning))
        gap = row["colorfulness"] - metrics.colorfulness(rgb_true).mean()
        assert row["colorfulness_gap"] == pytest.approx(gap)


def test_a_table_extended_with_previous_rows_equals_one_built_whole_and_evaluates_only_the_new(monkeypatch):
    rng = np.random.default_rng(4)
    lightness = rng.uniform(0, 100, (8, 16, 16, 1)).astype(np.float32)
    truth = rng.normal(0, 25, (8, 16, 16, 2)).astype(np.float32)
    predictions = {**metrics.baseline_predictions(truth, np.array([2.0, 5.0])),
                   "a": truth + rng.normal(0, 8, truth.shape).astype(np.float32)}
    binnings = {10: UniformBins(10)}
    first = evaluation.build_metrics_table(lightness, truth, predictions, binnings, seed=1)
    predictions["b"] = 0.5 * truth
    whole_rows, whole_values = evaluation.build_metrics_table(lightness, truth, predictions, binnings, seed=1)
    evaluated = []
    original = metrics.evaluate
    monkeypatch.setattr(metrics, "evaluate", lambda name, *args, **kwargs: evaluated.append(name) or
                        original(name, *args, **kwargs))
    rows, values = evaluation.build_metrics_table(lightness, truth, predictions, binnings, seed=1, previous=first)
    assert evaluated == ["b"]
    assert rows == whole_rows  # the gray row's better-side note included, once
    assert set(values) == set(whole_values)
    for name, by_metric in whole_values.items():
        for metric, per_image in by_metric.items():
            np.testing.assert_array_equal(values[name][metric], per_image)
    with pytest.raises(ValueError, match="other images"):
        evaluation.build_metrics_table(lightness[:4], truth[:4], {"b": predictions["b"][:4]}, binnings, previous=first)


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
