"""colorize_utils.learning.evaluation: seed summaries and bin-sweep verdicts with intervals, duplicate models, categories,
and the metrics table."""

import numpy as np
import pytest

from colorize_utils import metrics
from colorize_utils.learning import evaluation
from colorize_utils.binning import UniformBins
from colorize_utils.color import lab_channels_to_rgb_uint8


def _closeness(values: dict[str, np.ndarray]):
    rows = [{"model": name, "frobenius_ab": float(v.mean()), "best_epoch": 3, "epochs_run": 5}
            for name, v in values.items()]
    return rows, values


def test_seed_summary_reports_mean_sd_kept_epochs_and_interval_verdicts():
    rng = np.random.default_rng(1)
    gray = 13 + rng.normal(0, 2, 500)
    mean_color = gray - 0.5
    per_seed = {}
    for seed, shift in ((1, -0.30), (2, -0.20), (3, -0.25)):
        model = mean_color + shift + rng.normal(0, 0.05, 500)
        noisy = mean_color + rng.normal(0, 3, 500)
        per_seed[seed] = _closeness({metrics.GRAY: gray, metrics.MEAN_COLOR: mean_color, "good": model,
                                     "noisy": noisy})
    rows = {row["model"]: row for row in evaluation.seed_summary(per_seed)}
    assert rows["good"]["frobenius_ab"] == pytest.approx(np.mean([r["frobenius_ab"] for r in
                                                                  (per_seed[k][0][2] for k in (1, 2, 3))]))
    assert rows["good"]["frobenius_ab_sd_over_seeds"] == pytest.approx(0.05, abs=0.02)
    assert rows["good"]["best_epoch"] == "3, 3, 3"
    assert rows["good"]["vs_baselines"] == "significantly beats both"
    assert rows["noisy"]["vs_mean_color"].endswith("tie")
    assert rows[metrics.GRAY]["frobenius_ab_sd_over_seeds"] == 0.0
    with pytest.raises(ValueError, match="same models"):
        evaluation.seed_summary({1: per_seed[1], 2: (per_seed[2][0][:3], per_seed[2][1])})


def test_bin_sweep_verdict_needs_an_interval_that_excludes_zero():
    rng = np.random.default_rng(2)
    gray = rng.uniform(0.4, 0.6, 400)
    key = "accuracy_10_bins"

    def table(model_accuracy):
        images = {metrics.GRAY: {key: gray}, metrics.MEAN_COLOR: {key: gray - 0.05}, "ce": {key: model_accuracy}}
        rows = [{"model": name, key: float(v[key].mean()), "frobenius_ab": 1.0, "psnr": 20.0, "auc": 0.8,
                 "colorfulness": 5.0, "colorfulness_gap": -1.0} for name, v in images.items()]
        return rows, images

    clear = evaluation.bin_sweep_rows({0: table(gray + 0.02 + rng.normal(0, 0.01, 400))}, {10: "ce"})[0]
    assert clear["beats_both_baselines"] and clear["vs_gray"].endswith("better")
    jitter = rng.normal(0, 0.2, 400)
    noise = evaluation.bin_sweep_rows({0: table(gray + 0.002 + jitter - jitter.mean())}, {10: "ce"})[0]
    assert noise["model_accuracy"] > noise["gray_accuracy"]  # higher on average, but within noise
    assert not noise["beats_both_baselines"] and noise["vs_gray"].endswith("tie")


def test_the_same_model_in_two_folders_is_listed_once():
    a, b = np.zeros((2, 4, 4, 2), np.float32), np.ones((2, 4, 4, 2), np.float32)
    unique, notes = evaluation.drop_duplicates({"gray": a, "ce": b, "ce_10_bins": b.copy(), "other": b + 1e-3})
    assert list(unique) == ["gray", "ce", "other"]
    assert notes == ["ce_10_bins: the same predictions as ce (the same model): listed once, as ce."]


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
